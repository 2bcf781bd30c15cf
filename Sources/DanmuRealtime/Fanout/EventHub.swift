import DanmuClient
import DanmuCodecs
import EventLoop

/// The fan-out hub: takes the collector's events on the room workers, gives each an id, keeps a bounded history per
/// room, and delivers to SSE and WebSocket subscribers on the reactor's IO thread.
///
/// ```swift
/// let hub = EventHub(reactor: reactor)
/// collector.setHandler(Pipeline(stages: stages, sinks: sinks, next: hub))   // or collector.setHandler(hub)
/// // on the loop, after the HTTP layer sent the response head:
/// let id = hub.openEventStream(try Subscription.parse(query: query, lastEventID: header), output: connection)
/// ```
///
/// Threads: `handle(batch:)` runs on any worker and never waits on a subscriber: it encodes each event ONCE (the
/// JSON Lines object of `writeJSONLine`, in an SSE frame), assigns ids under a short lock and hands the events to
/// the loop in batches, with at most one `reactor.execute` pending at a time however many events arrive.
///
/// Flushes: the loop delivers what the inbox holds at most once per `Configuration.flushInterval`, each subscriber
/// getting ONE write of all its events of the flush (the events' SSE frames are built once per event, and the
/// concatenation once per flush for all subscribers with the same rooms, kinds and transport, so 10,000 viewers of
/// one room share one array: no per-subscriber copy or encode).
/// `statistics` and `close()` are for any thread. Everything else (the subscriber API, the history) is
/// loop-confined and traps elsewhere.
///
/// Slow subscribers: each is bounded by `Configuration.subscriberQueueBytes` of its own connection's unsent bytes;
/// above it the `slowSubscriberPolicy` applies to that subscriber only. Gaps are never silent (`GapReport`).
public final class EventHub: DanmuHandler, @unchecked Sendable {
    public let reactor: Reactor
    public let configuration: Configuration
    /// The epoch of this hub's event ids (`EventID`).
    public let epoch: UInt64

    /// Events between the workers and the loop. Guarded by its lock.
    struct Inbox {
        var events: [PublishedEvent] = []
        /// The last sequence given out.
        var sequence: UInt64 = 0
        /// Whether a drain task is queued on the reactor (or its flush timer armed): at most one at a time.
        var drainScheduled = false
        /// When (monotonic ns) the oldest event in `events` was queued; meaningful while `events` is not empty.
        var firstQueuedAt: UInt64 = 0
        var closed = false
    }

    private let inbox = ConditionLock(Inbox())
    /// Written on the loop (and by `handle(batch:)` for drops), read from any thread. Guarded by its lock.
    let counters = Lock(Statistics())

    // Loop-confined state: touched only on `reactor`'s IO thread.
    var subscribers = SubscriberTable()
    var history: EventHistory
    var lastSubscriberNumber: UInt64 = 0
    var keepAliveTimer: TimerID?
    var encoder = WebSocketFrameEncoder(masks: false)
    var isClosed = false
    /// When (reactor `now`) the last flush started; 0 before the first.
    var lastFlushAt: UInt64 = 0
    /// Armed while a drain waits for `flushInterval` to pass since the last flush.
    var flushTimer: TimerID?

    /// A hub delivering on `reactor`'s IO thread. Any thread; the reactor need not be running yet (events that
    /// arrive before it runs are dropped and counted).
    public init(reactor: Reactor, configuration: Configuration = .init()) {
        self.reactor = reactor
        self.configuration = configuration
        epoch = configuration.epoch ?? UInt64(max(1, SystemClock.realtimeNanoseconds() / 1_000))
        history = EventHistory(capacity: configuration.historyPerRoom)
    }

    /// A copy of the counters. Any thread.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// The id the next published event will follow: the newest id given out (sequence 0 before any). Any thread.
    public var newestEventID: EventID { EventID(epoch: epoch, sequence: inbox.withLock { $0.sequence }) }

    /// When (monotonic ns, `SystemClock.monotonicNanoseconds`) the oldest event still waiting for the loop was
    /// queued; nil when none waits. Any thread. Events wait at most about `flushInterval` while the loop keeps up;
    /// a much older one means the loop is not draining (`/healthz` reports `hub_stalled`).
    public var oldestQueuedEventSince: UInt64? {
        inbox.withLock { $0.events.isEmpty ? nil : $0.firstQueuedAt }
    }

    // MARK: Publishing (any thread)

    /// Encodes the batch once, assigns ids and hands it to the loop. Room workers, any thread; never blocks on a
    /// subscriber: it holds the inbox lock for the id assignment and an append, and waits only while more than
    /// `Configuration.maxQueuedEvents` are waiting for the loop (see below).
    public func handle(batch: [RoomEvent]) {
        guard !batch.isEmpty else { return }
        // The JSON is written outside the lock, on this worker: the expensive part runs in parallel.
        var writer = JSONWriter(capacity: 512)
        var encoded: [(room: Int64, kind: EventKind, json: [UInt8])] = []
        encoded.reserveCapacity(batch.count)
        for event in batch {
            writer.reset()
            writeJSONLine(room: event.room, receivedAt: event.receivedAt, event: event.event, into: &writer)
            var json = writer.bytes
            if json.last == UInt8(ascii: "\n") { json.removeLast() }
            encoded.append((room: event.room, kind: event.event.kind, json: json))
        }
        // Ids are given out and the events queued under ONE lock hold, so the loop sees them in sequence order
        // even when several rooms' workers publish at once: a resume "after S" is then exact.
        enum Outcome {
            case queued
            case scheduleDrain
            case dropped
        }
        // Backpressure, not loss: above `maxQueuedEvents` waiting for the loop, this worker waits for the next
        // drain, so its room's queue fills and the collector pauses that socket (TCP pushes back). The loop never
        // waits on a subscriber, so this waits on no subscriber either. Bounded (`maxPublishWait`), then the batch
        // is queued anyway: a stopped loop must not hang the workers. Never on the IO thread (it would wait for
        // itself).
        let limit = configuration.maxQueuedEvents
        let deadline =
            reactor.isInLoop ? 0 : SystemClock.monotonicNanoseconds() + configuration.maxPublishWait.nanoseconds
        let outcome = inbox.withLock(waitingUntil: { $0.closed || $0.events.count < limit }, deadline: deadline) {
            state, _ -> Outcome in
            guard !state.closed else { return .dropped }
            if state.events.isEmpty { state.firstQueuedAt = SystemClock.monotonicNanoseconds() }
            for item in encoded {
                state.sequence += 1
                let id = EventID(epoch: epoch, sequence: state.sequence)
                state.events.append(PublishedEvent(id: id, room: item.room, kind: item.kind, json: item.json[...]))
            }
            guard !state.drainScheduled else { return .queued }
            state.drainScheduled = true
            return .scheduleDrain
        }
        switch outcome {
        case .queued:
            return
        case .dropped:
            counters.withLock { $0.eventsDropped += UInt64(encoded.count) }
        case .scheduleDrain:
            guard !reactor.execute({ [self] in drainInbox() }) else { return }
            // The reactor is not running: nobody will drain. Drop what is queued instead of growing without bound.
            let dropped = inbox.withLock { state in
                let count = state.events.count
                state.events = []
                state.drainScheduled = false
                return count
            }
            counters.withLock { $0.eventsDropped += UInt64(dropped) }
        }
    }

    public func handle(_ event: RoomEvent) { handle(batch: [event]) }

    // MARK: The loop side

    /// The drain task: flushes now, or, within `flushInterval` of the last flush, arms a timer for the rest of it
    /// (the inbox keeps filling meanwhile, and `drainScheduled` stays set so no worker queues another task).
    /// Loop thread.
    func drainInbox() {
        reactor.assertInLoop()
        let interval = configuration.flushInterval
        if interval > .zero, !isClosed, lastFlushAt != 0, flushTimer == nil {
            let (seconds, attoseconds) = interval.components
            let due = lastFlushAt &+ UInt64(seconds) * 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
            let now = reactor.now
            if now < due {
                flushTimer = reactor.schedule(after: .nanoseconds(Int64(due - now))) { [weak self] in
                    guard let self else { return }
                    flushTimer = nil
                    flush()
                }
                return
            }
        }
        if flushTimer != nil { return }  // the armed timer flushes
        flush()
    }

    /// Flushes at once, whatever `flushInterval` says (a waiting flush timer is cancelled). Loop thread; for tests
    /// that must see a publish delivered before they look.
    func flushNow() {
        reactor.assertInLoop()
        if let flushTimer { reactor.cancel(flushTimer) }
        flushTimer = nil
        flush()
    }

    /// Takes everything queued, appends it to the history and delivers it: one write per subscriber. Loop thread.
    private func flush() {
        let events = inbox.withLock { state in
            let events = state.events
            state.events = []
            state.drainScheduled = false
            return events
        }
        inbox.broadcast()  // wake workers waiting for room
        if isClosed || events.isEmpty {
            if !events.isEmpty { counters.withLock { $0.eventsDropped += UInt64(events.count) } }
            return
        }
        // From the start: a flush that takes longer than the interval (10,000 writes) is followed at once by the
        // next, which then carries everything that arrived meanwhile.
        lastFlushAt = reactor.now
        for event in events { history.append(event) }
        var tally = DeliveryTally()
        var batches = BatchCache()
        for subscriber in subscribers.candidates(for: events) where subscriber.isOpen {
            deliver(events, to: subscriber, batches: &batches, tally: &tally)
        }
        let roomCount = history.rooms.count
        let eventCount = history.eventCount
        counters.withLock { statistics in
            statistics.eventsPublished += UInt64(events.count)
            statistics.flushes += 1
            statistics.roomsInHistory = roomCount
            statistics.eventsInHistory = eventCount
            tally.add(to: &statistics)
        }
    }

    // MARK: History of removed rooms (loop thread)

    /// Forgets `room`'s history ring (the room was removed): its events and storage go, so memory stays bounded by
    /// the rooms in use however many come and go. A later resume from before the forgetting gets a `history` gap
    /// with an unknown count for the room, never a silent hole. Loop thread.
    public func forgetHistory(of room: Int64) {
        reactor.assertInLoop()
        guard history.forget(room: room) > 0 else { return }
        updateHistoryCounters()
    }

    /// Forgets the history ring of every room not in `rooms` (the collector's registered rooms; `RealtimeServer`
    /// calls it at each alarm check, so a room removed by any means loses its ring within one check). Loop thread.
    public func forgetHistory(ofRoomsNotIn rooms: Set<Int64>) {
        reactor.assertInLoop()
        let gone = history.rooms.keys.filter { !rooms.contains($0) }
        guard !gone.isEmpty else { return }
        for room in gone { history.forget(room: room) }
        updateHistoryCounters()
    }

    private func updateHistoryCounters() {
        let roomCount = history.rooms.count
        let eventCount = history.eventCount
        counters.withLock { statistics in
            statistics.roomsInHistory = roomCount
            statistics.eventsInHistory = eventCount
        }
    }

    /// Counters of one drain, added to the statistics under one lock hold.
    struct DeliveryTally {
        var deliveries: UInt64 = 0
        var skipped: UInt64 = 0
        var disconnected: UInt64 = 0
        var gaps: UInt64 = 0
        var timedOut: UInt64 = 0

        func add(to statistics: inout Statistics) {
            statistics.subscribersTimedOut += timedOut
            statistics.deliveries += deliveries
            statistics.eventsSkipped += skipped
            statistics.subscribersDisconnected += disconnected
            statistics.gapsReported += gaps
        }
    }

    // MARK: Closing (any thread)

    /// Closes every subscriber (WebSocket ones with 1001 going away, after what is queued), stops the keep-alive
    /// timer and drops events from now on. Any thread; returns once done on the loop (at once if the reactor is
    /// not running). Idempotent.
    public func close() {
        let dropped = inbox.withLock { state in
            state.closed = true
            let count = state.events.count
            state.events = []
            return count
        }
        inbox.broadcast()
        if dropped > 0 { counters.withLock { $0.eventsDropped += UInt64(dropped) } }
        _ = reactor.executeAndWait { [self] in closeOnLoop() }
    }

    private func closeOnLoop() {
        guard !isClosed else { return }
        isClosed = true
        if let keepAliveTimer { reactor.cancel(keepAliveTimer) }
        keepAliveTimer = nil
        if let flushTimer { reactor.cancel(flushTimer) }
        flushTimer = nil
        for subscriber in Array(subscribers.byID.values) where subscriber.isOpen {
            if subscriber.isDraining {
                // Already closing after its queue; it has not read that for a while.
                closeSubscriberNow(subscriber)
                continue
            }
            if subscriber.transport == .webSocket {
                sendClose(WebSocketClose(code: .goingAway, reason: "server shutting down"), to: subscriber)
            }
            closeSubscriber(subscriber)
        }
        subscribers.removeAll()
        counters.withLock { statistics in
            statistics.serverSentEventSubscribers = 0
            statistics.webSocketSubscribers = 0
        }
    }
}
