import DanmuClient
import EventLoop

/// The realtime server: the HTTP/1.1 server on a reactor with danmu's routes — the live page, Server-Sent
/// Events and WebSocket subscriptions through an `EventHub`, metrics, health, the rooms document and room control.
///
/// ```swift
/// let reactor = try Reactor()
/// try reactor.start()
/// let hub = EventHub(reactor: reactor)
/// collector.setHandler(hub)                     // or EventTee(printer, hub)
/// let server = RealtimeServer(reactor: reactor, collector: collector, hub: hub,
///                             configuration: .init(address: .loopback(port: 8080)))
/// let address = try server.start()              // 127.0.0.1:8080
/// …
/// server.close(); hub.close(); reactor.shutdown()
/// ```
///
/// Routes: `GET /` (and the page's assets), `GET /events`, `GET /ws`, `GET /metrics`, `GET /healthz`, `GET /rooms`,
/// `POST /rooms/{id}`, `DELETE /rooms/{id}` (see docs/http.md). `start()` and `close()` may be called from any
/// thread except the reactor's own; everything else runs on the reactor's IO thread.
public final class RealtimeServer: Sendable {
    public let configuration: Configuration
    private let reactor: Reactor
    /// Loop-confined: created here, used only on the reactor's thread.
    private let core: RealtimeServerCore
    private let lifecycle = Lock(Lifecycle.created)

    private enum Lifecycle {
        case created, running, closed
    }

    /// A server on `reactor` (the hub must deliver on the same reactor) for `collector`'s rooms.
    public init(
        reactor: Reactor, collector: DanmuCollector, hub: EventHub, configuration: Configuration = .init()
    ) {
        precondition(hub.reactor === reactor, "the hub must deliver on the server's reactor")
        self.reactor = reactor
        self.configuration = configuration
        core = RealtimeServerCore(reactor: reactor, collector: collector, hub: hub, configuration: configuration)
    }

    /// Listens and starts the alarm checks; returns the bound address (the real port for port 0). Any thread.
    @discardableResult
    public func start() throws(RealtimeServerError) -> SocketAddress {
        try lifecycle.withLock { (state: inout Lifecycle) throws(RealtimeServerError) -> SocketAddress in
            switch state {
            case .running: throw .alreadyStarted
            case .closed: throw .closed
            case .created: break
            }
            let core = self.core
            guard let result = reactor.executeAndWait({ core.start() }) else { throw .reactorNotRunning }
            let address = try result.get()
            state = .running
            return address
        }
    }

    /// Stops listening and closes every connection (subscribers see their stream end). Idempotent; any thread.
    public func close() {
        let wasRunning = lifecycle.withLock { state in
            defer { state = .closed }
            return state == .running
        }
        guard wasRunning else { return }
        let core = self.core
        _ = reactor.executeAndWait { core.close() }
    }

    /// The HTTP server's counters (any thread; nil when the reactor is not running).
    public func httpStatistics() -> HTTPServer.Statistics? {
        let core = self.core
        return reactor.executeAndWait { core.http.statistics }
    }

    /// The alarms currently raised (any thread; empty when the reactor is not running).
    public func activeAlarms() -> [RoomAlarm] {
        let core = self.core
        return reactor.executeAndWait { core.alarms.active } ?? []
    }
}
