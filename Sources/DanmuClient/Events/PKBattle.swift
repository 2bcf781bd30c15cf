import DanmuCodecs

/// `PK_BATTLE_*`: a PK (two anchors' rooms compete on gift votes). `PRE` / `START` / `PROCESS` (the running
/// votes) / `END` / `SETTLE`, each also as `…_NEW`. `init_info` is the room that started the PK, `match_info`
/// its opponent; null when the message does not carry them.
public struct PKBattle: Sendable, Equatable {
    /// One side: `init_info` / `match_info`.
    public struct Side: Sendable, Equatable {
        public var roomID: Int64 = 0
        public var votes: Int64?
        /// The side's top supporter.
        public var bestUname: String?
        public init() {}
    }

    public var cmd: String = "PK_BATTLE_START"
    public var pkID: Int64 = 0
    public var pkStatus: Int64 = 0
    public var battleType: Int64 = 0
    /// Unix seconds.
    public var timestamp: Int64 = 0
    public var initInfo: Side?
    public var matchInfo: Side?
    /// START: unix seconds.
    public var pkStartTime: Int64?
    public var pkEndTime: Int64?
    /// SETTLE: `data.result_type`.
    public var resultType: Int64?
    public init() {}
}

extension PKBattle: EventKindCodec {
    static var kind: EventKind { .pkBattle }
    static let commands = [
        "PK_BATTLE_PRE", "PK_BATTLE_PRE_NEW", "PK_BATTLE_START", "PK_BATTLE_START_NEW", "PK_BATTLE_PROCESS",
        "PK_BATTLE_PROCESS_NEW", "PK_BATTLE_END", "PK_BATTLE_SETTLE", "PK_BATTLE_SETTLE_NEW",
    ]
    var event: DanmuEvent { .pkBattle(self) }

    /// `pk_id` / `pk_status` / `timestamp` at the top level (or in `data` for SETTLE_NEW); never nil.
    static func parse(_ message: EventMessage) -> PKBattle? {
        let root = message.root, data = message.data
        var pk = PKBattle()
        pk.cmd = message.cmd
        pk.pkID = int(root["pk_id"] ?? data?["pk_id"])
        pk.pkStatus = int(root["pk_status"] ?? data?["pk_status"])
        pk.battleType = int(data?["battle_type"])
        pk.timestamp = int(root["timestamp"] ?? data?["timestamp"])
        pk.initInfo = side(data?["init_info"])
        pk.matchInfo = side(data?["match_info"])
        pk.pkStartTime = data?["pk_start_time"]?.int64Lenient
        pk.pkEndTime = data?["pk_end_time"]?.int64Lenient
        pk.resultType = data?["result_type"]?.int64Lenient
        return pk
    }

    static func side(_ node: JSONNode?) -> Side? {
        guard let node, node.kind == .object else { return nil }
        var side = Side()
        side.roomID = int(node["room_id"])
        side.votes = node["votes"]?.int64Lenient
        side.bestUname = node["best_uname"]?.string
        return side
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "pk_id"); w.int(pkID)
        w.key(static: "pk_status"); w.int(pkStatus)
        w.key(static: "battle_type"); w.int(battleType)
        w.key(static: "timestamp"); w.int(timestamp)
        w.key(static: "init_info"); w.optional(initInfo)
        w.key(static: "match_info"); w.optional(matchInfo)
        w.key(static: "pk_start_time"); w.optional(pkStartTime)
        w.key(static: "pk_end_time"); w.optional(pkEndTime)
        w.key(static: "result_type"); w.optional(resultType)
    }

    var textLine: String {
        var phase = cmd.dropFirst("PK_BATTLE_".count).lowercased()
        if phase.hasSuffix("_new") { phase.removeLast(4) }
        guard let initInfo, let matchInfo else { return "PK \(pkID) \(phase)" }
        guard let initVotes = initInfo.votes, let matchVotes = matchInfo.votes else {
            return "PK \(pkID) \(phase): \(initInfo.roomID) vs \(matchInfo.roomID)"
        }
        return "PK \(pkID) \(phase): \(initInfo.roomID) \(initVotes) – \(matchVotes) \(matchInfo.roomID)"
    }
}

extension JSONWriter {
    fileprivate mutating func optional(_ side: PKBattle.Side?) {
        guard let side else { return null() }
        beginObject()
        key(static: "room_id"); int(side.roomID)
        key(static: "votes"); optional(side.votes)
        key(static: "best_uname"); optional(side.bestUname)
        endObject()
    }
}
