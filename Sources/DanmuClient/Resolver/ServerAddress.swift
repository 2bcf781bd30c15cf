/// One danmaku server: a host name (or IPv4 literal) and its three ports, one per transport.
///
/// The one address type of the client: an entry of getDanmuInfo's `host_list` (docs/protocol.md §2.4, §3), what a
/// `RoomEndpointResolving` returns for a room, and a collector's fixed `Configuration.server` (tests, the
/// simulator, benchmarks, private relays) are all this. `port` is the raw-TCP port; `wsPort` and `wssPort` are the
/// host's `ws_port` and `wss_port`, used when the transport is ws, wss or auto.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// Raw TCP port (`port`, 2243).
    public var port: UInt16
    public var wsPort: UInt16
    public var wssPort: UInt16

    public init(host: String, port: UInt16 = 2243, wsPort: UInt16 = 2244, wssPort: UInt16 = 443) {
        self.host = host
        self.port = port
        self.wsPort = wsPort
        self.wssPort = wssPort
    }

    /// The universal fallback (every source): `broadcastlv.chat.bilibili.com:2243`.
    public static let broadcastlv = ServerAddress(host: "broadcastlv.chat.bilibili.com")

    /// The port of `kind` on this host.
    public func port(for kind: TransportStack.Kind) -> UInt16 {
        switch kind {
        case .tcp: port
        case .ws: wsPort
        case .wss: wssPort
        }
    }

    public var description: String { "\(host):\(port)" }
}
