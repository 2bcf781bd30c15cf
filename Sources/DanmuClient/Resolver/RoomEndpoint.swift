/// A room resolved for connecting: its long id, the AUTH token and identity, and the servers to rotate over.
///
/// The one answer of resolution: `RoomResolver.resolve(room:)` and every `RoomEndpointResolving` return it. A type
/// of its own beside `ServerAddress` because it is per room and expires: the token is fetched (and refreshed) for
/// this room, and `servers` is an ordered list tried in turn (the resolver's fallback host last).
public struct RoomEndpoint: Sendable, Equatable {
    /// The long (real) room id — the only one that receives messages (a short id is accepted but receives nothing).
    public var roomID: Int64
    /// The id the caller asked for when it differs (a short id such as 76), else nil.
    public var requestedID: Int64?
    /// getDanmuInfo token; nil when connecting key-less to broadcastlv (names may be masked, messages sampled).
    public var token: String?
    /// Servers to try in order; `RoomResolver` always puts its fallback host last.
    public var servers: [ServerAddress]
    /// AUTH uid: the cookie's account (`nav` `mid`), 0 for a guest.
    public var uid: Int64
    /// buvid3 sent as cookie and in the AUTH body.
    public var buvid: String

    public init(
        roomID: Int64, requestedID: Int64? = nil, token: String?, servers: [ServerAddress], uid: Int64 = 0,
        buvid: String = ""
    ) {
        self.roomID = roomID
        self.requestedID = requestedID
        self.token = token
        self.servers = servers
        self.uid = uid
        self.buvid = buvid
    }

    /// Whether names may be masked / messages sampled (no token, or a guest uid).
    public var isDegraded: Bool { token == nil || uid == 0 }

    /// The AUTH body for this endpoint.
    public func authBody(protover: Int = 3) -> AuthBody {
        AuthBody(uid: uid, roomID: roomID, protover: protover, key: token ?? "", buvid: buvid)
    }
}

/// A source of a room's token and servers (`RoomResolver` is one).
///
/// Blocking: it is called on the collector's resolver thread, never on the IO thread.
public protocol RoomEndpointResolving: Sendable {
    /// - Parameter refresh: the previous token was rejected: fetch a new one rather than a cached one.
    func resolveEndpoint(room: Int64, refresh: Bool) throws(RoomResolutionError) -> RoomEndpoint
}
