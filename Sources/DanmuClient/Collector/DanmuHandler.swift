/// One event of one room, as delivered to handlers and to `DanmuCollector.makeEventStream()`.
public struct RoomEvent: Sendable {
    /// The (long) room id the event came from.
    public var room: Int64
    /// Wall-clock time (Unix nanoseconds, CLOCK_REALTIME) at which the IO thread read the bytes.
    public var receivedAt: Int64
    public var event: DanmuEvent

    public init(room: Int64, receivedAt: Int64, event: DanmuEvent) {
        self.room = room
        self.receivedAt = receivedAt
        self.event = event
    }
}

/// Receives a collector's events.
///
/// Threading: a room's events arrive on that room's serial queue of the worker pool, **in order and never two
/// at once for the same room**; different rooms are handled in parallel, so an implementation shared by rooms
/// must be thread-safe (it is `Sendable`). A handler that blocks holds back its own room — the room's queue fills,
/// its socket is paused (TCP pushes back on the server), nothing is lost — and occupies one worker thread while it
/// blocks. Other rooms go on while a worker is free: with `Configuration.workers` W (default cores − 1, so 1 on a
/// 2-core machine), W handlers blocked at once stall every room until one returns (still nothing is lost). Raise
/// `workers` if handlers may block; `Configuration.onSlowHandler` names each room whose handler holds a worker
/// longer than `slowHandlerThreshold`, once per room (by default a warning on standard error).
///
/// Every method has a default: implement `handle(batch:)` or `handle(_:)` to see everything, or only the typed
/// methods you need. The default `handle(batch:)` calls `handle(_:)` for each event; the default `handle(_:)`
/// dispatches to the typed methods and sends every other kind to `other(_:)`. Arguments come in one order
/// everywhere: the room, then the event (as in `DanmuHandlers`' closures).
public protocol DanmuHandler: Sendable {
    /// The events of one read of one room, in order (one call per batch: format them into one buffer, take a
    /// lock once). Never empty.
    func handle(batch: [RoomEvent])
    func handle(_ event: RoomEvent)
    func danmaku(room: Int64, _ danmaku: Danmaku)
    func gift(room: Int64, _ gift: Gift)
    func superChat(room: Int64, _ superChat: SuperChat)
    func guardBuy(room: Int64, _ guardBuy: GuardBuy)
    /// Any event that has no typed method above.
    func other(_ event: RoomEvent)
}

extension DanmuHandler {
    public func handle(batch: [RoomEvent]) {
        for event in batch { handle(event) }
    }
    public func handle(_ event: RoomEvent) {
        switch event.event {
        case .danmaku(let danmaku): self.danmaku(room: event.room, danmaku)
        case .gift(let gift): self.gift(room: event.room, gift)
        case .superChat(let superChat): self.superChat(room: event.room, superChat)
        case .guardBuy(let guardBuy): self.guardBuy(room: event.room, guardBuy)
        default: other(event)
        }
    }
    public func danmaku(room: Int64, _ danmaku: Danmaku) {}
    public func gift(room: Int64, _ gift: Gift) {}
    public func superChat(room: Int64, _ superChat: SuperChat) {}
    public func guardBuy(room: Int64, _ guardBuy: GuardBuy) {}
    public func other(_ event: RoomEvent) {}
}

/// A `DanmuHandler` made of closures, for the common case:
/// ```swift
/// collector.setHandler(DanmuHandlers(
///     danmaku: { room, danmaku in print("[\(room)] \(danmaku.uname): \(danmaku.text)") },
///     gift: { room, gift in print("[\(room)] gift \(gift.giftName) ×\(gift.num)") }))
/// ```
/// `event` (if set) sees every event, before the typed closure for it.
public struct DanmuHandlers: DanmuHandler {
    public var onEvent: (@Sendable (RoomEvent) -> Void)?
    public var onDanmaku: (@Sendable (Int64, Danmaku) -> Void)?
    public var onGift: (@Sendable (Int64, Gift) -> Void)?
    public var onSuperChat: (@Sendable (Int64, SuperChat) -> Void)?
    public var onGuardBuy: (@Sendable (Int64, GuardBuy) -> Void)?

    public init(
        event: (@Sendable (RoomEvent) -> Void)? = nil,
        danmaku: (@Sendable (Int64, Danmaku) -> Void)? = nil,
        gift: (@Sendable (Int64, Gift) -> Void)? = nil,
        superChat: (@Sendable (Int64, SuperChat) -> Void)? = nil,
        guardBuy: (@Sendable (Int64, GuardBuy) -> Void)? = nil
    ) {
        onEvent = event
        onDanmaku = danmaku
        onGift = gift
        onSuperChat = superChat
        onGuardBuy = guardBuy
    }

    public func handle(_ event: RoomEvent) {
        onEvent?(event)
        switch event.event {
        case .danmaku(let danmaku): onDanmaku?(event.room, danmaku)
        case .gift(let gift): onGift?(event.room, gift)
        case .superChat(let superChat): onSuperChat?(event.room, superChat)
        case .guardBuy(let guardBuy): onGuardBuy?(event.room, guardBuy)
        default: break
        }
    }
}

/// The handler used before `setHandler` is called: drops events (they are still counted).
struct DiscardingHandler: DanmuHandler {
    func handle(batch: [RoomEvent]) {}
    func handle(_ event: RoomEvent) {}
}
