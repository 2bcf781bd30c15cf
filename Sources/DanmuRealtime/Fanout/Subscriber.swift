import DanmuClient

/// One subscriber as the hub keeps it. Loop-confined: created, read and changed only on the hub's reactor thread.
final class Subscriber {
    let id: SubscriberID
    let transport: SubscriberTransport
    var subscription: Subscription
    let output: any SubscriberOutput
    /// False once the hub closed it or was told it closed; a closed subscriber gets nothing more.
    var isOpen = true
    /// Events skipped per room while over the queue bound (`.skipToNewest`), reported by the next gap event.
    private(set) var skipped: [Int64: Int] = [:]
    /// The last `SubscriberTable.candidates` call that returned it (dedupes a subscriber of several rooms).
    var visit: UInt64 = 0
    /// Closed by the `.disconnect` policy after its queue flushes: no more events; closed at once if it has not
    /// flushed `stalledSubscriberTimeout` after it went over its bound.
    var isDraining = false
    /// When (monotonic nanoseconds) it was first seen over its queue bound; nil while under it.
    var stalledSince: UInt64?
    /// Reads the client's frames (WebSocket only).
    var decoder: WebSocketFrameDecoder?

    init(
        id: SubscriberID, transport: SubscriberTransport, subscription: Subscription, output: any SubscriberOutput,
        maxClientMessageBytes: Int
    ) {
        self.id = id
        self.transport = transport
        self.subscription = subscription
        self.output = output
        if transport == .webSocket {
            let limits = WebSocketFrameDecoder.Limits(
                maxFrameSize: maxClientMessageBytes, maxMessageSize: maxClientMessageBytes)
            decoder = WebSocketFrameDecoder(role: .server, limits: limits)
        }
    }

    /// Whether events are being skipped (a gap is owed).
    var isSkipping: Bool { !skipped.isEmpty }

    func recordSkipped(room: Int64) { skipped[room, default: 0] += 1 }

    /// The owed gap, and forgets it.
    func takeSkipped() -> GapReport? {
        guard !skipped.isEmpty else { return nil }
        let rooms = skipped.sorted { $0.key < $1.key }.map { (room: $0.key, missed: Optional($0.value)) }
        skipped = [:]
        return GapReport(reason: .slow, rooms: rooms)
    }

    /// The bytes of `event` for this subscriber's transport.
    func wire(_ event: PublishedEvent, encoder: inout WebSocketFrameEncoder) -> [UInt8] {
        switch transport {
        case .serverSentEvents: event.serverSentEvent
        case .webSocket: event.webSocketFrame(using: &encoder)
        }
    }

    /// The bytes of `gap` for this subscriber's transport.
    func wire(_ gap: GapReport, encoder: inout WebSocketFrameEncoder) -> [UInt8] {
        switch transport {
        case .serverSentEvents: gap.serverSentEvent
        case .webSocket: gap.webSocketFrame(using: &encoder)
        }
    }
}
