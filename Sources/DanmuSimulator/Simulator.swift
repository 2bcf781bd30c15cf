import EventLoop
import Glibc

/// A local stand-in for the Bilibili live danmaku server (raw-TCP transport): many rooms on one listener,
/// AUTH / heartbeat / op-5 pushes exactly as docs/protocol.md describes, a realistic message mix built from real
/// samples, plain / zlib / brotli batches, a flood mode, and fault modes for some rooms.
///
/// Runs on a `Reactor` the caller owns (the caller starts and shuts it down). Every DANMU_MSG carries
/// `sim-<room>-<seq>-<CLOCK_MONOTONIC ns>` as `id_str` (see `SimulatedMessageID`); seq counts the room's danmaku
/// from 1, continues across reconnects and advances only for messages actually written to an authenticated
/// client.
///
/// ```swift
/// let reactor = try Reactor(); try reactor.start()
/// let simulator = Simulator(reactor: reactor, configuration: .init(rooms: .range(1...1000), ratePerRoom: 2))
/// let address = try simulator.start()       // 127.0.0.1:<port>
/// ...
/// print(simulator.statistics().messagesSent)
/// simulator.stop(); reactor.shutdown()
/// ```
public final class Simulator: Sendable {
    public let configuration: Configuration
    let reactor: Reactor
    let store = StatisticsStore()
    /// Loop-confined; created by `start`, touched only on the reactor's thread.
    private let core: SimulatorCore
    /// The simulated live site behind the HTTP API; nil without `configuration.httpAPIListen`.
    public let site: SimulatedSite?
    /// Loop-confined: set by `startEndpoints` on the loop, used and cleared there by `stop`.
    private let httpAPI = Lock<SimulatorHTTPAPI?>(nil)

    public init(reactor: Reactor, configuration: Configuration = .init()) {
        precondition(configuration.ratePerRoom >= 0 && configuration.ratePerRoom.isFinite, "rate must be >= 0")
        precondition(configuration.batchSize >= 1, "batch size must be >= 1")
        self.reactor = reactor
        self.configuration = configuration
        let site =
            configuration.httpAPIListen == nil
            ? nil : SimulatedSite(configuration: configuration.site, rooms: configuration.rooms)
        self.site = site
        self.core = SimulatorCore(reactor: reactor, configuration: configuration, store: store, site: site)
    }

    /// Starts listening; returns the bound address (the real port when configured with port 0).
    /// Callable from any thread (blocks until the loop has done it).
    @discardableResult
    public func start() throws(SimulatorError) -> SocketAddress {
        try startEndpoints().tcp
    }

    /// Starts listening on every configured endpoint (TCP, and ws / wss when configured); returns their bound
    /// addresses. Callable from any thread.
    @discardableResult
    public func startEndpoints() throws(SimulatorError) -> SimulatorAddresses {
        let core = self.core
        let (reactor, site, httpAPI, listen) = (self.reactor, self.site, self.httpAPI, configuration.httpAPIListen)
        let result: Result<SimulatorAddresses, SimulatorError> =
            reactor.executeAndWait {
                let started = core.start()
                guard case .success(var addresses) = started else { return started }
                guard let site, let listen else { return .success(addresses) }
                let api = SimulatorHTTPAPI(reactor: reactor, site: site, addresses: addresses)
                do throws(SystemError) {
                    addresses.httpAPI = try api.start(on: listen)
                } catch {
                    core.stop()
                    return .failure(.listen(error))
                }
                httpAPI.withLock { $0 = api }
                return .success(addresses)
            }
            ?? .failure(.reactorStopped)
        return try result.get()
    }

    /// Stops listening and closes every connection (their fds are closed when this returns). Idempotent.
    /// Callable from any thread.
    public func stop() {
        let core = self.core
        let httpAPI = self.httpAPI
        _ = reactor.executeAndWait {
            httpAPI.withLock { $0 }?.stop()
            core.stop()
        }
    }

    /// A consistent snapshot of all counters (any thread).
    public func statistics() -> SimulatorStatistics { store.snapshot() }

    /// Counters of one room, nil if no client ever authenticated for it (any thread).
    public func statistics(room: Int64) -> SimulatedRoomStatistics? { store.room(room) }

    /// The text a client sees for danmaku `seq` ("#<seq> …"), for tests that check content.
    public func danmakuText(seq: UInt64) -> String { core.generator.template.text(seq: seq) }
}

/// Errors of `Simulator.start()`.
public enum SimulatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Binding or listening failed (e.g. port in use).
    case listen(SystemError)
    /// `start` after `stop`, or twice.
    case alreadyStarted
    /// The reactor is shut down (its loop no longer runs tasks).
    case reactorStopped
    /// The wss endpoint's certificate or key could not be used (or libssl is missing).
    case tls(String)

    public var description: String {
        switch self {
        case .listen(let error): "simulator cannot listen: \(error)"
        case .alreadyStarted: "simulator was already started"
        case .reactorStopped: "the reactor is not running"
        case .tls(let why): "simulator cannot serve wss: \(why)"
        }
    }
}
