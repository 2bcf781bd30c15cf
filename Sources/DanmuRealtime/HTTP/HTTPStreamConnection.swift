import EventLoop

/// Receives what happens on a connection after a route took it over (`HTTPRouteResult.stream`). Loop-confined.
public protocol HTTPStreamHandler: AnyObject {
    /// Bytes from the client (for WebSocket: frames); they live in the reactor's shared buffer, copy to keep.
    func streamDidRead(_ bytes: UnsafeRawBufferPointer)
    /// The connection's write queue, after holding bytes the kernel did not take, is empty again.
    func streamDidDrain()
    /// The connection is gone (either side closed it); called once.
    func streamDidClose()
}

/// The writing side of a taken-over connection, given to the stream's handler. Loop-confined: every method
/// runs on the IO thread. After the connection closed, `send` and `close` do nothing and `pendingBytes` is 0.
public final class HTTPStreamConnection {
    let reactor: Reactor
    /// The connection's id in the reactor.
    public let id: ConnectionID
    /// The client's address.
    public let peer: SocketAddress

    init(reactor: Reactor, id: ConnectionID, peer: SocketAddress) {
        self.reactor = reactor
        self.id = id
        self.peer = peer
    }

    /// Queues bytes (`Reactor.write`).
    public func send(_ bytes: [UInt8]) {
        reactor.write(id, bytes)
    }

    /// Bytes queued and not yet taken by the kernel (`Reactor.pendingWriteBytes`).
    public var pendingBytes: Int {
        reactor.pendingWriteBytes(id)
    }

    /// Closes after what is queued was written (`Reactor.closeAfterFlush`).
    public func close() {
        reactor.closeAfterFlush(id)
    }

    /// Closes at once, dropping what is queued (`Reactor.close`): for a peer that stopped reading.
    public func closeNow() {
        reactor.close(id)
    }
}
