import EventLoop
import Glibc

/// One accepted HTTP connection: parses requests as bytes arrive, answers them in order (pipelining), and
/// hands the connection to a stream handler when a route asks. Loop-confined (a `ConnectionHandler`).
final class HTTPServerConnection: ConnectionHandler {
    private enum State {
        /// Reading requests. `requestStartedAt` is when the current unfinished request began (nil: none).
        case requests(requestStartedAt: UInt64?)
        /// A route took the connection over.
        case streaming(any HTTPStreamHandler)
        /// An answer that ends the connection is being flushed.
        case closing
        case closed
    }

    /// Weak: a server dropped while the reactor still delivers this connection's close must not be touched.
    private weak var server: HTTPServer?
    private let limits: HTTPServerLimits
    private let router: HTTPRouter
    private let reactor: Reactor
    let peer: SocketAddress
    private(set) var id: ConnectionID?
    private var parser: HTTPRequestParser
    private var state: State
    /// When the last request was answered (or the connection accepted): the idle timeout counts from here.
    private var idleSince: UInt64
    private var pausedForResponses = false

    init(server: HTTPServer, reactor: Reactor, peer: SocketAddress) {
        self.server = server
        self.reactor = reactor
        self.peer = peer
        limits = server.limits
        router = server.router
        parser = HTTPRequestParser(limits: server.limits)
        // The first request's clock starts at the accept: a client that connects and sends nothing is a slowloris.
        state = .requests(requestStartedAt: reactor.now)
        idleSince = reactor.now
    }

    func connectionDidOpen(_ connection: ConnectionID) {
        id = connection
    }

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        switch state {
        case .streaming(let handler):
            handler.streamDidRead(bytes)
        case .requests:
            parser.feed(bytes)
            processRequests(connection)
        case .closing, .closed:
            break
        }
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
        let previous = state
        state = .closed
        if case .streaming(let handler) = previous { handler.streamDidClose() }
        server?.connectionDidClose(self)
    }

    func connectionDidDrainWrites(_ connection: ConnectionID) {
        switch state {
        case .streaming(let handler):
            handler.streamDidDrain()
        case .requests:
            if pausedForResponses {
                pausedForResponses = false
                reactor.resumeReading(connection)
                processRequests(connection)
            }
        case .closing, .closed:
            break
        }
    }

    /// Called by the server's sweep timer: enforces the header-read and idle timeouts.
    func checkTimeouts(now: UInt64) {
        guard case .requests(let startedAt) = state, let id else { return }
        if let startedAt {
            if now &- startedAt > limits.headerReadTimeout.nanoseconds {
                server?.statistics.timedOut += 1
                finish(id, with: .text(408, "the request did not arrive within \(limits.headerReadTimeout)"))
            }
        } else if now &- idleSince > limits.idleTimeout.nanoseconds {
            server?.statistics.idleClosed += 1
            state = .closing
            reactor.close(id)
        }
    }

    private func processRequests(_ connection: ConnectionID) {
        while case .requests = state, !pausedForResponses {
            let request: HTTPRequest
            do throws(HTTPRequestError) {
                guard let next = try parser.nextRequest() else { break }
                request = next
            } catch {
                server?.statistics.badRequests += 1
                finish(connection, with: .text(error.status, error.message))
                return
            }
            server?.statistics.requests += 1
            answer(request, on: connection)
        }
        guard case .requests(let startedAt) = state else { return }
        if parser.hasPartialRequest {
            state = .requests(requestStartedAt: startedAt ?? reactor.now)
        } else {
            state = .requests(requestStartedAt: nil)
        }
    }

    private func answer(_ request: HTTPRequest, on connection: ConnectionID) {
        idleSince = reactor.now
        switch router.route(request, peer: peer) {
        case .response(let response):
            let keepAlive = request.keepAlive && !(server?.isClosing ?? true)
            reactor.write(connection, response.serialized(keepAlive: keepAlive, includeBody: request.method != "HEAD"))
            if !keepAlive {
                state = .closing
                reactor.closeAfterFlush(connection)
                return
            }
            // The next request's clock starts with its first byte (set by processRequests).
            state = .requests(requestStartedAt: nil)
            if reactor.pendingWriteBytes(connection) > limits.maxPendingResponseBytes {
                // A pipelining client that does not read its answers: stop reading until it does.
                pausedForResponses = true
                reactor.pauseReading(connection)
            }
        case .stream(let head, _) where request.method == "HEAD":
            // The stream's head, and no stream: the connection closes (its body would never end).
            reactor.write(connection, head.serializedHead())
            state = .closing
            reactor.closeAfterFlush(connection)
        case .stream(let head, let start):
            if let bytes = limits.streamSendBufferBytes {
                // Best effort: a refused option leaves the autotuned buffer, the stream still works.
                try? reactor.setSocketOption(connection, level: SOL_SOCKET, name: SO_SNDBUF, value: bytes)
            }
            reactor.write(connection, head.serializedHead())
            let handler = start(HTTPStreamConnection(reactor: reactor, id: connection, peer: peer))
            state = .streaming(handler)
            server?.statistics.streamsOpened += 1
            let rest = parser.takeBufferedBytes()
            if !rest.isEmpty { rest.withUnsafeBytes { handler.streamDidRead($0) } }
        }
    }

    /// Answers with `response` and closes a moment later (errors and timeouts). The delay is nginx's "lingering
    /// close": the client may still be sending the rest of a refused request, and closing a socket with unread
    /// bytes sends a RST that can destroy the answer before the client read it. Reads are discarded meanwhile.
    private func finish(_ connection: ConnectionID, with response: HTTPResponse) {
        state = .closing
        reactor.write(connection, response.serialized(keepAlive: false))
        let reactor = self.reactor
        reactor.schedule(after: HTTPServer.lingerDelay) { reactor.closeAfterFlush(connection) }
    }

    /// Closes the connection now (server shutdown).
    func closeNow() {
        guard let id else { return }
        reactor.close(id)
    }
}

/// Answers a connection over a limit with 503 and closes it. Loop-confined.
final class HTTPRejectedConnection: ConnectionHandler {
    private let reactor: Reactor
    private let message: String

    init(reactor: Reactor, message: String) {
        self.reactor = reactor
        self.message = message
    }

    func connectionDidOpen(_ connection: ConnectionID) {
        reactor.write(connection, HTTPResponse.text(503, message).serialized(keepAlive: false))
        reactor.closeAfterFlush(connection)
    }

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {}
    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
}
