import DanmuCodecs

/// `ANCHOR_LOT_START` / `ANCHOR_LOT_END` / `ANCHOR_LOT_AWARD`: the anchor's lottery (天选时刻): it opens (the
/// prize, the danmaku or gift that joins it, the requirement), closes, and names its winners. One lottery's
/// messages share `id`; a field that a message does not carry is null (`award_users` empty).
public struct AnchorLot: Sendable, Equatable {
    public struct Winner: Sendable, Equatable {
        public var uid: Int64 = 0
        public var uname: String = ""
        public init() {}
    }

    public var cmd: String = "ANCHOR_LOT_START"
    public var id: Int64 = 0
    /// `lot_status`: 0 running, 2 drawn.
    public var lotStatus: Int64?
    public var awardName: String?
    public var awardNum: Int64?
    /// The danmaku to send to join.
    public var danmu: String?
    public var requireText: String?
    /// Seconds the lottery runs.
    public var maxTime: Int64?
    public var awardUsers: [Winner] = []
    public init() {}
}

extension AnchorLot: EventKindCodec {
    static var kind: EventKind { .anchorLot }
    static let commands = ["ANCHOR_LOT_START", "ANCHOR_LOT_END", "ANCHOR_LOT_AWARD"]
    var event: DanmuEvent { .anchorLot(self) }

    static func parse(_ message: EventMessage) -> AnchorLot? {
        guard let data = message.data else { return nil }
        var lot = AnchorLot()
        lot.cmd = message.cmd
        lot.id = int(data["id"])
        lot.lotStatus = data["lot_status"]?.int64Lenient
        lot.awardName = data["award_name"]?.string
        lot.awardNum = data["award_num"]?.int64Lenient
        lot.danmu = data["danmu"]?.string
        lot.requireText = data["require_text"]?.string
        lot.maxTime = data["max_time"]?.int64Lenient
        for user in array(data["award_users"]) {
            var winner = Winner()
            winner.uid = int(user["uid"])
            winner.uname = string(user["uname"])
            lot.awardUsers.append(winner)
        }
        return lot
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "id"); w.int(id)
        w.key(static: "lot_status"); w.optional(lotStatus)
        w.key(static: "award_name"); w.optional(awardName)
        w.key(static: "award_num"); w.optional(awardNum)
        w.key(static: "danmu"); w.optional(danmu)
        w.key(static: "require_text"); w.optional(requireText)
        w.key(static: "max_time"); w.optional(maxTime)
        w.key(static: "award_users")
        w.beginArray()
        for user in awardUsers {
            w.beginObject()
            w.key(static: "uid"); w.int(user.uid)
            w.key(static: "uname"); w.string(user.uname)
            w.endObject()
        }
        w.endArray()
    }

    var textLine: String {
        switch cmd {
        case "ANCHOR_LOT_START":
            return "lottery \(id): \(clean(awardName ?? "")) ×\(awardNum ?? 0), send \"\(clean(danmu ?? ""))\""
        case "ANCHOR_LOT_AWARD":
            return "lottery \(id) won by " + awardUsers.map { clean($0.uname) }.joined(separator: ", ")
        default: return "lottery \(id) ended"
        }
    }
}
