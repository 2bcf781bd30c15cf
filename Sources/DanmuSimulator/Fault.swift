/// Misbehaviours the simulator can show on some rooms, to test a client's error handling.
/// "Messages" below count op-5 messages written on that connection (not batches, not control packets).
public enum Fault: Sendable, Equatable, Hashable {
    /// Close the connection (after flushing) once `messages` messages were written.
    case closeAfter(messages: Int)
    /// After `afterMessages` messages, write a 16-byte header that no parser may accept (header length and ver
    /// 0x5A5A), then keep sending normally: the client must drop the connection.
    case garbageHeader(afterMessages: Int)
    /// After `afterMessages` messages, write a header declaring a 4 GiB - 1 packet.
    case absurdLength(afterMessages: Int)
    /// Every write is cut into 1–3 byte pieces, written with a small delay between them
    /// (`Simulator.Configuration.tinyWriteInterval`).
    case tinyWrites
    /// Accept AUTH silently: no op 8, no messages; keep the socket open (until the client gives up).
    case noAuthReply
    /// Never answer heartbeats (messages still flow).
    case noHeartbeatReply
    /// After `afterMessages` messages stop sending and stop answering anything, keep the socket open.
    case stall(afterMessages: Int)
    /// ws/wss only (ignored on TCP): after `afterMessages` messages, write this bad WebSocket frame.
    case webSocketFrame(WebSocketFrameFault, afterMessages: Int)
}

/// Bad or unusual frames the ws/wss endpoints can write after some messages.
public enum WebSocketFrameFault: String, Sendable, Equatable, Hashable, CaseIterable {
    /// A binary frame header declaring 4 GiB: past any client's frame limit (client: close 1009, reconnect).
    case oversize
    /// A masked frame, which a server must never send (RFC 6455 §5.1; client: close 1002, reconnect).
    case masked
    /// A close frame with code 1005, reserved and never valid on the wire (§7.4.1).
    case badClose
    /// The first fragment of a binary message, then a close: the connection ends mid-message.
    case closeMidMessage
    /// 64 pings at once: the client must answer each and lose nothing.
    case pingStorm

    /// The frame bytes (unencrypted).
    var bytes: [UInt8] {
        switch self {
        case .oversize: [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]
        case .masked: [0x82, 0x81, 1, 2, 3, 4, 0x55]
        case .badClose: [0x88, 2, 0x03, 0xED]
        case .closeMidMessage: [0x02, 3, 0, 0, 0] + [0x88, 2, 0x03, 0xE9]
        case .pingStorm: Array(repeating: [0x89, 1, 0x2A], count: 64).flatMap { $0 }
        }
    }

    /// Whether the connection ends after this frame (the client must reconnect).
    var endsConnection: Bool { self != .pingStorm }
}

/// Which rooms a fault applies to.
public enum RoomSelector: Sendable, Equatable, Hashable {
    case all
    /// Rooms whose id satisfies `id % k == remainder` (e.g. every 10th room: `.everyKth(10, remainder: 0)`).
    case everyKth(Int, remainder: Int)
    case rooms(Set<Int64>)

    public func contains(_ room: Int64) -> Bool {
        switch self {
        case .all: true
        case .everyKth(let k, let remainder): k > 0 && ((room % Int64(k)) + Int64(k)) % Int64(k) == Int64(remainder)
        case .rooms(let set): set.contains(room)
        }
    }
}

/// A fault, the rooms it applies to, and optionally only the first `firstConnections` connections of each such
/// room (so a test can check that the client recovers: e.g. close the first connection, serve the second).
public struct FaultRule: Sendable, Equatable, Hashable {
    public var fault: Fault
    public var rooms: RoomSelector
    /// nil = every connection of the room; n = connections 1...n (counted per room since start).
    public var firstConnections: Int?

    public init(_ fault: Fault, rooms: RoomSelector, firstConnections: Int? = nil) {
        self.fault = fault
        self.rooms = rooms
        self.firstConnections = firstConnections
    }
}

/// The faults active on one connection, flattened for cheap checks on the hot path.
struct ActiveFaults: Equatable {
    var closeAfter: Int?
    var garbageAfter: Int?
    var absurdAfter: Int?
    var tinyWrites = false
    var noAuthReply = false
    var noHeartbeatReply = false
    var stallAfter: Int?
    var webSocketFrameAfter: (fault: WebSocketFrameFault, messages: Int)?

    static let none = ActiveFaults()

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.closeAfter == rhs.closeAfter && lhs.garbageAfter == rhs.garbageAfter && lhs.absurdAfter == rhs.absurdAfter
            && lhs.tinyWrites == rhs.tinyWrites && lhs.noAuthReply == rhs.noAuthReply
            && lhs.noHeartbeatReply == rhs.noHeartbeatReply && lhs.stallAfter == rhs.stallAfter
            && lhs.webSocketFrameAfter?.fault == rhs.webSocketFrameAfter?.fault
            && lhs.webSocketFrameAfter?.messages == rhs.webSocketFrameAfter?.messages
    }

    var isEmpty: Bool { self == .none }

    /// The faults of `rules` that apply to connection number `connection` (1-based) of `room`. When several
    /// rules set the same message-count fault, the smallest count wins.
    init(rules: [FaultRule], room: Int64, connection: Int) {
        for rule in rules where rule.rooms.contains(room) {
            if let first = rule.firstConnections, connection > first { continue }
            switch rule.fault {
            case .closeAfter(let n): closeAfter = min(closeAfter ?? .max, max(0, n))
            case .garbageHeader(let n): garbageAfter = min(garbageAfter ?? .max, max(0, n))
            case .absurdLength(let n): absurdAfter = min(absurdAfter ?? .max, max(0, n))
            case .tinyWrites: tinyWrites = true
            case .noAuthReply: noAuthReply = true
            case .noHeartbeatReply: noHeartbeatReply = true
            case .stall(let n): stallAfter = min(stallAfter ?? .max, max(0, n))
            case .webSocketFrame(let fault, let n):
                if n < webSocketFrameAfter?.messages ?? .max { webSocketFrameAfter = (fault, max(0, n)) }
            }
        }
    }

    private init() {}

    /// How many more messages may be written before the next message-count fault triggers, given `sent`
    /// messages already written on the connection (nil = no limit). Batches are cut at this boundary so a fault
    /// fires after exactly N messages.
    func messagesUntilNextFault(sent: Int) -> Int? {
        var limit: Int?
        for n in [closeAfter, garbageAfter, absurdAfter, stallAfter, webSocketFrameAfter?.messages] {
            guard let n, n >= sent else { continue }
            limit = min(limit ?? .max, n - sent)
        }
        return limit
    }
}
