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
    /// The one client SSL_CTX of every wss connection (nil unless the transport is wss or auto).
    let tlsContext: TLSContext?

    // MARK: any thread (locked)

    /// Counters of every registered room (the `statistics()` source).
    let registry = Lock<[Int64: RoomCounters]>([:])
    private let handler = Lock<any DanmuHandler>(DiscardingHandler())
    /// The event stream's buffer once someone asked for it, and whether shutdown has ended it.
    private let stream = Lock<(buffer: EventStreamBuffer?, finished: Bool)>((nil, false))

    // MARK: loop-confined

    private var sessions: [Int64: RoomSession] = [:]
    /// One serial queue per room id, outliving its sessions: a room removed and added again while its queue
    /// still holds events must not get a second queue, or the old backlog and the new session's events run on
    /// two workers at once, out of order (testReAddedRoomNeverRunsTwoQueuesAtOnce). `epoch` moves on at every
    /// add and remove; a retirement sentinel only retires the queue of the epoch it was posted in.
    private var queues: [Int64: (queue: SerialQueue, epoch: UInt64)] = [:]
    private(set) var streamPressure = false
    private var quiescing = false
    /// Rooms already reported through `onSlowHandler` (once per room).
    private var slowRoomsReported: Set<Int64> = []
    private var slowHandlerTimer: TimerID?
    /// The last TLS session per "server name:port", offered on the next connect there (resumption: no
    /// certificate exchange). One per host, not per room: every room on a host resumes the same session.
    private var tlsSessions: [String: TLSSession] = [:]

    init(
        configuration: DanmuCollector.Configuration, reactor: Reactor, pool: WorkerPool,
        resolverThread: CollectorResolverThread?, fixedEndpoint: SessionEndpoint?, tlsContext: TLSContext?
    ) {
        self.tlsContext = tlsContext
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
        let queue: SerialQueue
        if let existing = queues[room] {
            queue = existing.queue
            queues[room] = (queue, existing.epoch &+ 1)
        } else {
            queue = SerialQueue(
                pool: pool, key: room, highWatermark: configuration.queueHighWatermark,
                lowWatermark: configuration.queueLowWatermark
            ) { [weak self] in
                guard let self else { return }
                self.reactor.execute { self.queueDrained(room: room) }
            }
            queues[room] = (queue, 0)
        }
        counters.attach(queue)
        let pipeline = RoomPipeline(room: room, counters: counters, core: self)
        let session = RoomSession(room: room, core: self, endpoint: fixedEndpoint, queue: queue, pipeline: pipeline)
        sessions[room] = session
        session.start()
    }

    func remove(room: Int64) {
        assertInLoop()
        guard let session = sessions.removeValue(forKey: room) else { return }
        session.remove()
        // After quiesce the pool may be shutting down; closeAll() drops the queues anyway.
        guard !quiescing, let entry = queues[room] else { return }
        // The queue stays this room's until what the session enqueued has run: the sentinel, last in line,
        // retires it unless the room came back meanwhile (a new epoch).
        let epoch = entry.epoch &+ 1
        queues[room] = (entry.queue, epoch)
        entry.queue.enqueue(cost: 0) { [weak self] in
            guard let self else { return }
            self.reactor.execute { self.retireQueue(room: room, epoch: epoch) }
        }
    }

    private func retireQueue(room: Int64, epoch: UInt64) {
        assertInLoop()
        guard sessions[room] == nil, queues[room]?.epoch == epoch else { return }
        queues[room] = nil
    }

    /// Rooms whose serial queue is kept (live sessions plus removed rooms still draining). Loop thread.
    var queueCount: Int {
        assertInLoop()
        return queues.count
    }

    func requestResolution(for room: Int64, refresh: Bool) {
        assertInLoop()
        guard let resolverThread else { return }
        resolverThread.resolve(room: room, refresh: refresh) { [weak self] result in
            guard let self else { return }
            self.reactor.execute { self.sessions[room]?.resolved(result) }
        }
    }

    /// A new connection's layers for `kind` to `server`, and the TLS session key (wss only).
    func makeTransportStack(_ kind: TransportStack.Kind, server: ServerAddress)
        throws(TransportError) -> (TransportStack, String?)
    {
        assertInLoop()
        guard kind != .tcp else { return (.tcp(), nil) }
        let options = configuration.webSocket
        // Seeded from the system's entropy, not SystemRandomNumberGenerator itself passed `inout`: that is an empty
        // struct, and ThreadSanitizer's instrumentation of an inout access to an empty value read a garbage address
        // and crashed (SEGV in WebSocketHandshake.init, CollectorTransportTests under TSan). The nonce only has to
        // be fresh per connection.
        var random = SplitMix64(seed: .random(in: .min ... .max))
        let handshake = WebSocketHandshake(
            host: server.host, port: Int(server.port(for: kind)), secure: kind == .wss, path: options.path,
            origin: options.origin, userAgent: options.userAgent, cookie: options.cookie, random: &random)
        // Masks too (RFC 6455 §10.3 guards browsers against script-driven cache poisoning; a native client's masks
        // need only be fresh).
        let layer = WebSocketLayer(handshake: handshake, limits: options.limits, random: random)
        guard kind == .wss else { return (.ws(layer), nil) }
        guard let tlsContext else { throw .tls(TLSError(.setupFailed("no TLS context (transport is not wss)"))) }
        let name = configuration.tls.serverName ?? server.host
        let key = "\(name):\(server.wssPort)"
        do throws(TLSError) {
            let tls = try TLSLayer(context: tlsContext, serverName: name, session: tlsSessions[key])
            return (.wss(layer, over: tls), key)
        } catch {
            throw .tls(error)
        }
    }

    func storeTLSSession(_ session: TLSSession?, for key: String) {
        assertInLoop()
        guard let session, session.isResumable else { return }
        tlsSessions[key] = session
    }

    private func queueDrained(room: Int64) {
        assertInLoop()
        // The queue is the room's, whichever session now reads for it: a session that did not ask for the
        // pause just finds nothing to resume.
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

    /// Starts the watchdog that names rooms whose handler holds a worker too long (when `onSlowHandler` is set).
    func startSlowHandlerWatchdog() {
        assertInLoop()
        guard configuration.onSlowHandler != nil, slowHandlerTimer == nil else { return }
        // A quarter of the threshold: a stall is reported at most 25 % late; the check is one short lock.
        let period = max(configuration.slowHandlerThreshold / 4, .milliseconds(10))
        slowHandlerTimer = reactor.schedule(after: period, repeating: period) { [unowned self] in
            self.checkSlowHandlers()
        }
    }

    private func checkSlowHandlers() {
        assertInLoop()
        guard let report = configuration.onSlowHandler else { return }
        for (room, seconds) in pool.busyWorkers(longerThan: configuration.slowHandlerThreshold)
        where slowRoomsReported.insert(room).inserted {
            report(room, seconds)
        }
    }

    /// Shutdown, first step: stop reading, cancel timers, stop reconnecting. Connections stay open.
    func quiesce() {
        assertInLoop()
        quiescing = true
        if let slowHandlerTimer { reactor.cancel(slowHandlerTimer) }
        slowHandlerTimer = nil
        for session in sessions.values { session.quiesce() }
    }

    /// Shutdown, last step: close every connection and drop the sessions (breaking the core ↔ pipeline cycle).
    func closeAll() {
        assertInLoop()
        for session in sessions.values { session.closeConnection() }
        sessions.removeAll()
        queues.removeAll()
    }

    private func assertInLoop() {
        assert(reactor.isInLoop, "CollectorCore loop state touched off the IO thread")
    }
}
