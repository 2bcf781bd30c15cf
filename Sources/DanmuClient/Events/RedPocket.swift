import DanmuCodecs

/// `POPULARITY_RED_POCKET_START` (a red-packet lottery opens, with the danmaku to send to join),
/// `POPULARITY_RED_POCKET_NEW` (the red packet as a gift), `POPULARITY_RED_POCKET_WINNER_LIST` (who won).
/// One lottery's messages share `lot_id`; a field that a message does not carry is null.
public struct RedPocket: Sendable, Equatable {
    /// One winner: `winner_info[n]` is `[uid, uname, award record id, gift id]`.
    public struct Winner: Sendable, Equatable {
        public var uid: Int64 = 0
        public var uname: String = ""
        public var giftID: Int64 = 0
        public init() {}
    }

    public var cmd: String = "POPULARITY_RED_POCKET_START"
    public var lotID: Int64 = 0
    /// The sender (`sender_uid` / `sender_name` in START, `uid` / `uname` in NEW); 0 / "" in WINNER_LIST.
    public var uid: Int64 = 0
    public var uname: String = ""
    /// Gold coins (1000 = 1 CNY): `total_price` (START) or `price` (NEW).
    public var price: Int64?
    /// The danmaku a viewer sends to join (START).
    public var danmu: String?
    public var startTime: Int64?
    public var endTime: Int64?
    /// WINNER_LIST.
    public var totalNum: Int64?
    public var winners: [Winner] = []
    public init() {}
}

extension RedPocket: EventKindCodec {
    static var kind: EventKind { .redPocket }
    static let commands = [
        "POPULARITY_RED_POCKET_START", "POPULARITY_RED_POCKET_NEW", "POPULARITY_RED_POCKET_WINNER_LIST",
    ]
    var event: DanmuEvent { .redPocket(self) }

    static func parse(_ message: EventMessage) -> RedPocket? {
        guard let data = message.data else { return nil }
        var pocket = RedPocket()
        pocket.cmd = message.cmd
        pocket.lotID = int(data["lot_id"])
        switch message.cmd {
        case "POPULARITY_RED_POCKET_START":
            pocket.uid = int(data["sender_uid"])
            pocket.uname = string(data["sender_name"])
            pocket.price = data["total_price"]?.int64Lenient
            pocket.danmu = data["danmu"]?.string
            pocket.startTime = data["start_time"]?.int64Lenient
            pocket.endTime = data["end_time"]?.int64Lenient
        case "POPULARITY_RED_POCKET_NEW":
            pocket.uid = int(data["uid"])
            pocket.uname = string(data["uname"])
            pocket.price = data["price"]?.int64Lenient
            pocket.startTime = data["start_time"]?.int64Lenient
        default:
            pocket.totalNum = data["total_num"]?.int64Lenient
            for row in array(data["winner_info"]) {
                let cells = array(row)
                var winner = Winner()
                winner.uid = int(cells.first)
                winner.uname = string(cells.count > 1 ? cells[1] : nil)
                winner.giftID = int(cells.count > 3 ? cells[3] : nil)
                pocket.winners.append(winner)
            }
        }
        return pocket
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "lot_id"); w.int(lotID)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "price"); w.optional(price)
        w.key(static: "danmu"); w.optional(danmu)
        w.key(static: "start_time"); w.optional(startTime)
        w.key(static: "end_time"); w.optional(endTime)
        w.key(static: "total_num"); w.optional(totalNum)
        w.key(static: "winners")
        w.beginArray()
        for winner in winners {
            w.beginObject()
            w.key(static: "uid"); w.int(winner.uid)
            w.key(static: "uname"); w.string(winner.uname)
            w.key(static: "gift_id"); w.int(winner.giftID)
            w.endObject()
        }
        w.endArray()
    }

    var textLine: String {
        switch cmd {
        case "POPULARITY_RED_POCKET_START": return "red packet by \(clean(uname)): send \"\(clean(danmu ?? ""))\""
        case "POPULARITY_RED_POCKET_NEW": return "\(clean(uname)) sent a red packet (\(price ?? 0))"
        default: return "red packet \(lotID): \(winners.count) winners"
        }
    }
}
