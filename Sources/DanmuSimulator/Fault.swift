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

    static let none = ActiveFaults()

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
            }
        }
    }

    private init() {}

    /// How many more messages may be written before the next message-count fault triggers, given `sent`
    /// messages already written on the connection (nil = no limit). Batches are cut at this boundary so a fault
    /// fires after exactly N messages.
    func messagesUntilNextFault(sent: Int) -> Int? {
        var limit: Int?
        for n in [closeAfter, garbageAfter, absurdAfter, stallAfter] {
            guard let n, n >= sent else { continue }
            limit = min(limit ?? .max, n - sent)
        }
        return limit
    }
}
