import EventLoop

/// An HTTP/1.1 server on a `Reactor`: every connection is a `ConnectionHandler` on the IO thread (no thread per
/// connection), requests are parsed incrementally within `Limits`, answered in order by an `HTTPRouter`, and a
/// route may take a connection over as a stream (SSE, WebSocket).
///
/// Loop-confined: create it anywhere, but call `start`, `close` and `statistics` on the reactor's thread (or
/// through `Reactor.executeAndWait`, as `RealtimeServer` does).
public final class HTTPServer {
    public typealias Limits = HTTPServerLimits

    /// Counters of the server's life (loop-confined).
    public struct Statistics: Sendable, Equatable {
        public var accepted = 0
        public var open = 0
        /// Connections answered 503 because of `maxConnections` or `maxConnectionsPerAddress`.
        public var rejected = 0
        public var requests = 0
        /// Requests answered 4xx/5xx by the parser (bad syntax, limits).
        public var badRequests = 0
        /// Connections answered 408 by the header-read timeout.
        public var timedOut = 0
        /// Keep-alive connections closed by the idle timeout.
        public var idleClosed = 0
        /// Connections taken over by a stream route.
        public var streamsOpened = 0
    }

    /// How long a connection answered with an error keeps reading (and discarding) before it closes.
    static let lingerDelay: Duration = .milliseconds(250)

    public let limits: Limits
    let router: HTTPRouter
    private let reactor: Reactor
    private var listener: ListenerID?
    private var sweepTimer: TimerID?
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private var connectionsPerAddress: [UInt32: Int] = [:]
    private(set) var isClosing = false
    /// Loop-confined counters.
    public internal(set) var statistics = Statistics()

    public init(reactor: Reactor, limits: Limits = .init(), router: HTTPRouter) {
        self.reactor = reactor
        self.limits = limits
        self.router = router
    }

    /// Listens on `address` (port 0: any free port); returns the bound address. Loop thread.
    public func start(on address: SocketAddress) throws(SystemError) -> SocketAddress {
        reactor.assertInLoop()
        let acceptor = Acceptor(server: self)
        let id = try reactor.listen(on: address, handler: acceptor)
        listener = id
        // One sweep timer for every connection's timeouts instead of a timer per connection (redis' serverCron):
        // a quarter of the shorter timeout keeps the error under 25 %.
        let shortest = min(limits.headerReadTimeout, limits.idleTimeout)
        let period = max(.milliseconds(50), min(.seconds(1), shortest / 4))
        sweepTimer = reactor.schedule(after: period, repeating: period) { [weak self] in self?.sweep() }
        return reactor.localAddress(of: id) ?? address
    }

    /// Stops listening and closes every connection (streams get `streamDidClose`). Loop thread. Idempotent.
    public func close() {
        reactor.assertInLoop()
        isClosing = true
        if let listener { reactor.stopListening(listener) }
        listener = nil
        if let sweepTimer { reactor.cancel(sweepTimer) }
        sweepTimer = nil
        for connection in Array(connections.values) { connection.closeNow() }
    }

    private func sweep() {
        let now = reactor.now
        for connection in Array(connections.values) { connection.checkTimeouts(now: now) }
    }

    fileprivate func accept(_ connection: ConnectionID, from peer: SocketAddress) -> any ConnectionHandler {
        statistics.accepted += 1
        let fromPeer = connectionsPerAddress[peer.ipv4, default: 0]
        if isClosing || connections.count >= limits.maxConnections {
            statistics.rejected += 1
            return HTTPRejectedConnection(
                reactor: reactor, message: "too many connections (limit \(limits.maxConnections))")
        }
        if fromPeer >= limits.maxConnectionsPerAddress {
            statistics.rejected += 1
            return HTTPRejectedConnection(
                reactor: reactor,
                message: "too many connections from your address (limit \(limits.maxConnectionsPerAddress))")
        }
        let handler = HTTPServerConnection(server: self, reactor: reactor, peer: peer)
        connections[ObjectIdentifier(handler)] = handler
        connectionsPerAddress[peer.ipv4] = fromPeer + 1
        statistics.open = connections.count
        return handler
    }

    func connectionDidClose(_ connection: HTTPServerConnection) {
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
        let remaining = connectionsPerAddress[connection.peer.ipv4, default: 1] - 1
        connectionsPerAddress[connection.peer.ipv4] = remaining > 0 ? remaining : nil
        statistics.open = connections.count
    }
}

/// The listener's handler; holds the server weakly so a closed server is not kept alive by its listener.
private final class Acceptor: ListenerHandler {
    weak var server: HTTPServer?

    init(server: HTTPServer) {
        self.server = server
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        guard let server else { return ClosedServerConnection() }
        return server.accept(connection, from: peer)
    }
}

/// Closes a connection accepted after the server went away.
private final class ClosedServerConnection: ConnectionHandler {
    func connectionDidOpen(_ connection: ConnectionID) {}
    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {}
    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
}
