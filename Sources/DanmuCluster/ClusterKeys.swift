/// The Redis keys of one cluster. Every key starts with the hash tag `{name}` (default `{danmu}`), so all of one
/// cluster's keys hash to the same Redis Cluster slot: the multi-key scripts (renew, claim, release) stay legal
/// there, at the price that one cluster's coordination lives on one master.
///
/// | key | type | what |
/// |---|---|---|
/// | `{danmu}:rooms` | SET | the room ids to collect (`danmu-cli rooms add/remove`) |
/// | `{danmu}:rooms:version` | string | INCR'd by every edit of the room set; nodes poll it |
/// | `{danmu}:nodes` | ZSET | live node ids, scored by their heartbeat's expiry (Redis TIME, ms) |
/// | `{danmu}:node:<id>` | string | a node's heartbeat (`SET … PX ttl`) |
/// | `{danmu}:lease:<room>` | string | the owner's node id, or `handoff:<id>` while it hands the room over |
/// | `{danmu}:seen:<key>` | string | the shared dedupe's "already written" marks (`SET NX PX`) |
/// | `{danmu}:mark:<room>` | string | the last sequence number passed for the room (gap report after a takeover) |
public struct ClusterKeys: Sendable, Equatable {
    /// The hash tag with its braces, e.g. `{danmu}`.
    public let tag: String

    /// `name` is the cluster's name (letters, digits, `-`, `_`); the keys become `{name}:…`.
    public init(name: String = "danmu") throws(ClusterError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ Self.allowed($0) }) else {
            throw .invalidConfiguration("cluster name \"\(name)\" must be letters, digits, - or _")
        }
        tag = "{\(name)}"
    }

    public var rooms: String { tag + ":rooms" }
    public var roomsVersion: String { tag + ":rooms:version" }
    public var nodes: String { tag + ":nodes" }
    public func node(_ id: String) -> String { tag + ":node:" + id }
    public func lease(_ room: Int64) -> String { tag + ":lease:" + String(room) }
    public func seen(_ key: String) -> String { tag + ":seen:" + key }
    public func mark(_ room: Int64) -> String { tag + ":mark:" + String(room) }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default: return false
        }
    }
}

/// What went wrong in the cluster layer.
public enum ClusterError: Error, Equatable, CustomStringConvertible {
    /// A setting that cannot work (a TTL under 1 s, a bad cluster name).
    case invalidConfiguration(String)
    /// Redis did not answer, closed the connection, or refused a command.
    case redis(String)
    /// A room id in the room set that is not a positive integer.
    case badRoom(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): return "cluster: \(why)"
        case .redis(let why): return "cluster: Redis: \(why)"
        case .badRoom(let text): return "cluster: the room set holds \"\(text)\", not a positive room id"
        }
    }
}
