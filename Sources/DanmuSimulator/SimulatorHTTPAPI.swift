import DanmuCodecs
import EventLoop

/// The simulator's HTTP/1.1 listener: one GET per connection (`Connection: close`), routed to `SimulatedSite`.
/// Both the live site's hosts (api.live.bilibili.com, api.bilibili.com) are served from the one port, since
/// their paths do not overlap. Loop-confined: created, started and stopped on the reactor's thread, and the
/// reactor calls the handler methods there.
final class SimulatorHTTPAPI: ListenerHandler, @unchecked Sendable {
    let reactor: Reactor
    let site: SimulatedSite
    /// The danmaku endpoints getDanmuInfo points at.
    let addresses: SimulatorAddresses
    private var listener: ListenerID?
    private var connections: [ConnectionID: HTTPAPIConnection] = [:]

    init(reactor: Reactor, site: SimulatedSite, addresses: SimulatorAddresses) {
        self.reactor = reactor
        self.site = site
        self.addresses = addresses
    }

    /// Binds and listens; returns the bound address.
    func start(on address: SocketAddress) throws(SystemError) -> SocketAddress {
        reactor.assertInLoop()
        let id = try reactor.listen(on: address, handler: self)
        listener = id
        return reactor.localAddress(of: id) ?? address
    }

    func stop() {
        reactor.assertInLoop()
        if let listener { reactor.stopListening(listener) }
        listener = nil
        for id in Array(connections.keys) { reactor.close(id) }
        connections.removeAll()
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        let handler = HTTPAPIConnection(api: self)
        connections[connection] = handler
        return handler
    }

    func closed(_ connection: ConnectionID) { connections[connection] = nil }

    /// The answer to one request: status and JSON body.
    func respond(to request: SimulatorHTTPRequest) -> (status: Int, body: [UInt8]) {
        guard request.method == "GET" else {
            return (405, SimulatedSite.error(-405, "method \(request.method) not allowed"))
        }
        let query = request.query
        switch request.path {
        case "/room/v1/Room/room_init": return (200, site.roomInit(query))
        case "/x/frontend/finger/spi": return (200, site.fingerSPI())
        case "/x/web-interface/nav": return (200, site.nav(cookie: request.header("cookie")))
        case "/xlive/web-room/v1/index/getDanmuInfo": return (200, site.danmuInfo(query, addresses: addresses))
        case "/xlive/web-interface/v1/second/getList": return (200, site.roomList(query))
        // Test controls: not part of the live site.
        case "/sim/live":
            guard let room = SimulatedSite.int(query, "room"), let live = SimulatedSite.int(query, "live") else {
                return (400, SimulatedSite.error(-400, "/sim/live needs room=ID&live=0|1"))
            }
            site.setLive(room, live != 0)
            return (200, SimulatedSite.ok { _ in })
        case "/sim/rotate-wbi":
            site.rotateWBIKeys()
            return (200, SimulatedSite.ok { _ in })
        default:
            return (404, SimulatedSite.error(-404, "no route \(request.path)"))
        }
    }
}

/// One HTTP client of the API: collects the request head, answers once, closes after the write.
/// Loop-confined.
final class HTTPAPIConnection: ConnectionHandler {
    private unowned let api: SimulatorHTTPAPI
    private var head: [UInt8] = []
    private var answered = false

    init(api: SimulatorHTTPAPI) { self.api = api }

    func connectionDidOpen(_ connection: ConnectionID) {}

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        head += bytes
        let status: Int
        let body: [UInt8]
        switch SimulatorHTTPRequest.parse(head) {
        case .incomplete:
            guard head.count > SimulatorHTTPRequest.maxHeadBytes else { return }
            (status, body) = (431, SimulatedSite.error(-431, "request head over 16 KiB"))
        case .invalid(let why):
            (status, body) = (400, SimulatedSite.error(-400, why))
        case .complete(let request):
            (status, body) = api.respond(to: request)
        }
        answered = true
        head = []
        api.reactor.write(connection, SimulatorHTTPRequest.response(status: status, body: body))
        api.reactor.closeAfterFlush(connection)
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) { api.closed(connection) }
}
