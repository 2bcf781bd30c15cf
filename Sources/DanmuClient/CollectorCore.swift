import EventLoop

/// The collector's machinery, shared by the public `DanmuCollector`, the sessions and the worker pipelines.
///
/// Two kinds of members, kept apart on purpose:
/// - **Any thread**: the immutable configuration, reactor, pool, resolver thread, and the three `Lock`s
///   (statistics registry, handler, event stream; EventLoop's pthread-mutex lock, which TSan can see).
/// - **Loop-confined** (`sessions`, `streamPressure`, `quiescing`, `nextSessionNumber`): touched only on the
///   reactor's thread, from methods that begin with `assertInLoop()`. That is why the class is
///   `@unchecked Sendable`: it travels inside `reactor.execute` closures but its loop state never leaves.
final class CollectorCore: @unchecked Sendable {
    static let heartbeatPacket = Packet.heartbeat()

    let configuration: DanmuCollector.Configuration
    let timing: RoomTiming
    let reactor: Reactor
    let pool: WorkerPool
    let resolverThread: CollectorResolverThread?
    /// With a fixed server, the one endpoint every session shares; nil when rooms are resolved.
    let fixedEndpoint: SessionEndpoint?

    // MARK: any thread (locked)

    /// Counters of every registered room (the `statistics()` source).
    let registry = Lock<[Int64: RoomCounters]>([:])
    private let handler = Lock<any DanmuHandler>(DiscardingHandler())
    /// The event stream's buffer once someone asked for it, and whether shutdown has ended it.
    private let stream = Lock<(buffer: EventStreamBuffer?, finished: Bool)>((nil, false))

    // MARK: loop-confined

    private var sessions: [Int64: RoomSession] = [:]
    private(set) var streamPressure = false
    private var quiescing = false
    private var nextSessionNumber: UInt64 = 0
    private var sessionNumbers: [Int64: UInt64] = [:]

    init(
        configuration: DanmuCollector.Configuration, reactor: Reactor, pool: WorkerPool,
        resolverThread: CollectorResolverThread?, fixedEndpoint: SessionEndpoint?
    ) {
        self.configuration = configuration
        timing = configuration.timing
        self.reactor = reactor
        self.pool = pool
        self.resolverThread = resolverThread
        self.fixedEndpoint = fixedEndpoint
    }

    var currentHandler: any DanmuHandler { handler.withLock { $0 } }
    var currentStream: EventStreamBuffer? { stream.withLock { $0.buffer } }

    func setHandler(_ newHandler: any DanmuHandler) {
        handler.withLock { $0 = newHandler }
    }

    /// The event stream, created on first use (events are buffered only once someone asked for them).
    func eventStream() -> EventStreamBuffer {
        let (buffer, finished) = stream.withLock { current -> (EventStreamBuffer, Bool) in
            if let buffer = current.buffer { return (buffer, false) }
            let created = EventStreamBuffer(
                highWatermark: configuration.streamHighWatermark, lowWatermark: configuration.streamLowWatermark
            ) { [weak self] _ in
                guard let self else { return }
                self.reactor.execute { self.refreshStreamPressure() }
            }
            current.buffer = created
            return (created, current.finished)
        }
        // Asked for after shutdown: an empty sequence that ends at once rather than one that never ends.
        if finished { buffer.finish() }
        return buffer
    }

    /// Ends the event stream (after the workers delivered everything); later `events` readers end at once.
    func finishStream() {
        let buffer = stream.withLock { current -> EventStreamBuffer? in
            current.finished = true
            return current.buffer
        }
        buffer?.finish()
    }

    /// Any thread: a worker found undecodable data; the loop closes and reconnects that room.
    func reportProtocolError(room: Int64, connection: UInt32, _ error: ProtocolError) {
        reactor.execute { [self] in
            assertInLoop()
            sessions[room]?.protocolError(connection: connection, error)
        }
    }

    // MARK: - Loop thread

    func add(room: Int64, counters: RoomCounters) {
        assertInLoop()
        guard sessions[room] == nil, !quiescing else { return }
        nextSessionNumber += 1
        let number = nextSessionNumber
        let queue = SerialQueue(
            pool: pool, highWatermark: configuration.queueHighWatermark, lowWatermark: configuration.queueLowWatermark
        ) { [weak self] in
            guard let self else { return }
            self.reactor.execute { self.queueDrained(room: room, session: number) }
        }
        counters.attach(queue)
        let pipeline = RoomPipeline(room: room, counters: counters, core: self)
        let session = RoomSession(room: room, core: self, endpoint: fixedEndpoint, queue: queue, pipeline: pipeline)
        sessions[room] = session
        sessionNumbers[room] = number
        session.start()
    }

    func remove(room: Int64) {
        assertInLoop()
        sessionNumbers[room] = nil
        sessions.removeValue(forKey: room)?.remove()
    }

    func requestResolution(for room: Int64, refresh: Bool) {
        assertInLoop()
        guard let resolverThread else { return }
        resolverThread.resolve(room: room, refresh: refresh) { [weak self] result in
            guard let self else { return }
            self.reactor.execute { self.sessions[room]?.resolved(result) }
        }
    }

    private func queueDrained(room: Int64, session number: UInt64) {
        assertInLoop()
        // A removed-then-re-added room has a new queue: a late report about the old one must not unpause it.
        guard sessionNumbers[room] == number else { return }
        sessions[room]?.queueDrained()
    }

    private func refreshStreamPressure() {
        assertInLoop()
        // Read the flag instead of trusting the posted value: pause/resume posts from different threads may
        // run in either order, and the last one to run must see the latest truth.
        let pressure = currentStream?.isPressured ?? false
        guard pressure != streamPressure else { return }
        streamPressure = pressure
        for session in sessions.values { session.applyReadState() }
    }

    /// Shutdown, first step: stop reading, cancel timers, stop reconnecting. Connections stay open.
    func quiesce() {
        assertInLoop()
        quiescing = true
        for session in sessions.values { session.quiesce() }
    }

    /// Shutdown, last step: close every connection and drop the sessions (breaking the core ↔ pipeline cycle).
    func closeAll() {
        assertInLoop()
        for session in sessions.values { session.closeConnection() }
        sessions.removeAll()
        sessionNumbers.removeAll()
    }

    private func assertInLoop() {
        assert(reactor.isInLoop, "CollectorCore loop state touched off the IO thread")
    }
}
