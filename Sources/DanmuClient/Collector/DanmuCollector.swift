import EventLoop

/// Collects live chat from many Bilibili rooms at once: one epoll IO thread for every socket and timer, a
/// small worker pool that decodes and calls your handler, and nothing lost (a slow consumer pauses sockets).
///
/// ```swift
/// let collector = try DanmuCollector(configuration: .init(server: .init(host: "127.0.0.1", port: 2243)))
/// collector.setHandler(DanmuHandlers(danmaku: { room, danmaku in print(room, danmaku.text) }))
/// try collector.start()
/// collector.add(rooms: [21452505, 7734200])
/// …
/// collector.shutdown()
/// ```
///
/// Every method may be called from any thread, except `shutdown()` from inside a handler (it waits for the
/// workers, one of which would be itself). Call `shutdown()` before dropping the last reference.
public final class DanmuCollector: Sendable {
    public let configuration: Configuration
    private let core: CollectorCore
    private let lifecycle = Lock(Lifecycle.created)

    private enum Lifecycle {
        case created, running, stopped
    }

    /// Creates the reactor, the worker pool and (without a fixed server) the resolver thread; starts nothing.
    /// A fixed server given by host name is looked up here (blocking getaddrinfo, once); without one, rooms are
    /// resolved by `configuration.resolver`, or a default `RoomResolver` (Bilibili's HTTP API, via curl).
    public init(configuration: Configuration = Configuration()) throws(CollectorError) {
        self.configuration = configuration
        var fixed: SessionEndpoint?
        var resolverThread: CollectorResolverThread?
        if let server = configuration.server {
            let address: SocketAddress
            do throws(RoomResolutionError) {
                address = try HostLookup.address(host: server.host, port: server.port)
            } catch {
                throw .badServer(error.message)
            }
            let credentials = configuration.credentials
            fixed = SessionEndpoint(
                roomID: nil, token: credentials.token, hosts: [.init(server: server, ipv4: address.ipv4)],
                uid: credentials.uid,
                buvid: credentials.buvid)
        } else {
            // No fixed server: every room is resolved (token + hosts), by default through Bilibili's HTTP API.
            resolverThread = CollectorResolverThread(resolver: configuration.resolver ?? RoomResolver())
        }
        let reactor: Reactor
        do throws(SystemError) {
            reactor = try Reactor(configuration: configuration.reactor)
        } catch {
            throw .system(error)
        }
        // One SSL_CTX for every wss connection, made here so that a missing libssl or an unreadable CA file is an
        // error of `init`, not a reason every room fails with later.
        var tlsContext: TLSContext?
        if configuration.transport == .wss || configuration.transport == .auto {
            do throws(TLSError) {
                tlsContext = try TLSContext(verification: configuration.tls.verification)
            } catch {
                throw .tls(error)
            }
        }
        let pool = WorkerPool(threadCount: configuration.workers, globalByteCap: configuration.globalByteCap)
        core = CollectorCore(
            configuration: configuration, reactor: reactor, pool: pool, resolverThread: resolverThread,
            fixedEndpoint: fixed, tlsContext: tlsContext)
    }

    /// Starts the IO thread (and the resolver thread); rooms added before now begin connecting.
    public func start() throws(CollectorError) {
        try lifecycle.withLock { (state: inout Lifecycle) throws(CollectorError) in
            switch state {
            case .running: throw .alreadyStarted
            case .stopped: throw .shutDown
            case .created: break
            }
            do throws(SystemError) {
                try core.reactor.start()
            } catch {
                throw .system(error)
            }
            try core.resolverThread?.start()
            state = .running
            let core = self.core
            core.reactor.execute { core.startSlowHandlerWatchdog() }
            let rooms = core.registry.withLock { Array($0.values) }
            for counters in rooms { post(add: counters) }
        }
    }

    /// Adds a room (its long id). Adding a room twice is harmless; after `shutdown()` it does nothing.
    public func add(room: Int64) {
        add(rooms: [room])
    }

    /// Adds several rooms at once.
    public func add(rooms: some Sequence<Int64>) {
        lifecycle.withLock { state in
            guard state != .stopped else { return }
            for room in rooms {
                let counters: RoomCounters? = core.registry.withLock { registry in
                    guard registry[room] == nil else { return nil }
                    let counters = RoomCounters(room: room)
                    registry[room] = counters
                    return counters
                }
                if let counters, state == .running { post(add: counters) }
            }
        }
    }

    /// Removes a room: its connection is closed (freeing the fd) and no more of its events are read. Events
    /// already received are still delivered.
    public func remove(room: Int64) {
        lifecycle.withLock { state in
            guard core.registry.withLock({ $0.removeValue(forKey: room) }) != nil, state == .running else { return }
            let core = self.core
            core.reactor.execute { core.remove(room: room) }
        }
    }

    /// The rooms currently registered.
    public var rooms: [Int64] {
        core.registry.withLock { Array($0.keys) }.sorted()
    }

    /// Replaces the handler (any thread). Events already being delivered finish with the old one.
    public func setHandler(_ handler: any DanmuHandler) {
        core.setHandler(handler)
    }

    /// Every room's events as one `AsyncSequence`; see `RoomEventStream` for the (lossless, backpressured)
    /// policy. Buffering starts with the first call: from then on every event waits for a consumer (and the
    /// sockets pause when too many wait), so call it when you are about to iterate. Later calls return the same
    /// stream.
    public func makeEventStream() -> RoomEventStream {
        RoomEventStream(buffer: core.eventStream())
    }

    /// A snapshot of every room's counters and the totals (any thread, never waits for the IO thread).
    public func statistics() -> CollectorStatistics {
        let rooms = core.registry.withLock { Array($0.values) }
        return CollectorStatistics(rooms: rooms.map(\.snapshot).sorted { $0.room < $1.room })
    }

    /// Graceful stop: stops reading and reconnecting, delivers every frame already received, then closes
    /// every connection and joins all threads. Idempotent. Must not be called from a handler.
    public func shutdown() {
        // Both would deadlock: shutdown waits for the workers (one is the caller) and for the IO thread.
        precondition(
            !core.pool.isWorkerThread,
            "DanmuCollector.shutdown() called from a handler: it waits for every worker, the caller among them; "
                + "call it from another thread")
        precondition(
            !core.reactor.isInLoop,
            "DanmuCollector.shutdown() called on the IO thread (e.g. from onSlowHandler): call it from another thread")
        let wasRunning: Bool? = lifecycle.withLock { state in
            defer { state = .stopped }
            switch state {
            case .stopped: return nil
            case .created: return false
            case .running: return true
            }
        }
        guard let wasRunning else { return }
        let core = self.core
        if wasRunning {
            runOnLoop { core.quiesce() }
            core.resolverThread?.stop()
        }
        // Finishes every queued job: what was read is decoded and handed to the handler / stream.
        core.pool.shutdown()
        core.finishStream()
        if wasRunning { runOnLoop { core.closeAll() } }
        core.reactor.shutdown()
    }

    private func post(add counters: RoomCounters) {
        let core = self.core
        core.reactor.execute { core.add(room: counters.room, counters: counters) }
    }

    /// Rooms whose serial queue the collector keeps: live rooms plus removed ones whose backlog is still running.
    /// Waits for the IO thread (tests).
    var queueCount: Int {
        let core = self.core
        return core.reactor.executeAndWait { core.queueCount } ?? 0
    }

    /// Runs `body` on the IO thread and waits for it; a reactor that no longer accepts work has no loop left to
    /// wait for.
    private func runOnLoop(_ body: @escaping @Sendable () -> Void) {
        _ = core.reactor.executeAndWait(body)
    }
}
