/// A packet operation code (the u32 at offset 8 of the header).
///
/// A struct rather than an enum because the server may send operations we have never seen
/// (the leaked go-common enum lists 0–17 plus business ops 1000–10000); an unknown value must
/// survive decoding so that it can be counted and skipped instead of failing the connection.
/// `switch` over the named constants works as with an enum (add a `default:`).
public struct Operation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// C→S heartbeat; body ignored by the server (we send it empty on TCP, see `Packet.heartbeat()`).
    public static let heartbeat = Operation(2)
    /// S→C heartbeat reply: u32 popularity, possibly followed by an echo *outside* the declared length.
    public static let heartbeatReply = Operation(3)
    /// S→C business message(s): JSON (ver 0) or a compressed batch (ver 2 zlib, ver 3 brotli).
    public static let message = Operation(5)
    /// C→S authentication, must be the first packet.
    public static let auth = Operation(7)
    /// S→C authentication reply, body `{"code":0}`.
    public static let authReply = Operation(8)
    /// C→S acknowledgement seen in 2026 browsers (docs/protocol.md §5, uncertain); never required.
    public static let ack = Operation(24)

    /// Whether this operation is one we expect on the danmaku socket or appears in the
    /// server's published enum; used to judge whether bytes look like a header when resynchronising.
    public var isPlausible: Bool { rawValue <= 24 || (1000...10000).contains(rawValue) }

    public var description: String {
        switch self {
        case .heartbeat: return "HEARTBEAT(2)"
        case .heartbeatReply: return "HEARTBEAT_REPLY(3)"
        case .message: return "MESSAGE(5)"
        case .auth: return "AUTH(7)"
        case .authReply: return "AUTH_REPLY(8)"
        case .ack: return "ACK(24)"
        default: return "op(\(rawValue))"
        }
    }
}
