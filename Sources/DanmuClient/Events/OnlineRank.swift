import DanmuCodecs

/// `ONLINE_RANK_V2` (JSON) / `ONLINE_RANK_V3` (protobuf in `data.pb`): the room's high-energy ranking (高能榜).
/// V3 replaced V2 in 2025; its payload decodes to the same shape (bilibili-API-collect message_stream.md).
public struct OnlineRank: Sendable, Equatable {
    /// One ranked user.
    public struct Entry: Sendable, Equatable {
        public var uid: Int64 = 0
        public var uname: String = ""
        public var rank: Int64 = 0
        /// The contribution, sent as a string (`"20"`).
        public var score: String = ""
        public var guardLevel: Int64 = 0
        public init() {}
    }

    public var cmd: String = "ONLINE_RANK_V3"
    /// `rank_type`: `"gold-rank"` (V2), `"online_rank"` (V3).
    public var rankType: String = ""
    public var list: [Entry] = []
    public init() {}
}

extension OnlineRank: EventKindCodec {
    static var kind: EventKind { .onlineRank }
    static let commands = ["ONLINE_RANK_V2", "ONLINE_RANK_V3"]
    var event: DanmuEvent { .onlineRank(self) }

    static func parse(_ message: EventMessage) -> OnlineRank? {
        guard let data = message.data else { return nil }
        if message.cmd == "ONLINE_RANK_V3" { return parseProtobuf(data) }
        var rank = OnlineRank()
        rank.cmd = message.cmd
        rank.rankType = string(data["rank_type"])
        for item in array(data["list"]) {
            var entry = Entry()
            entry.uid = int(item["uid"])
            entry.uname = string(item["uname"])
            entry.rank = int(item["rank"])
            entry.score = stringOrNumber(item["score"])
            entry.guardLevel = int(item["guard_level"])
            rank.list.append(entry)
        }
        return rank
    }

    /// `ONLINE_RANK_V3` `data.pb`: 1 rank_type · 3 list (repeated: 1 uid · 3 score · 4 uname · 5 rank ·
    /// 6 guard_level), read off the real sample (ONLINE_RANK_V3.bac-doc.json). nil when it does not decode.
    static func parseProtobuf(_ data: JSONNode) -> OnlineRank? {
        typealias PB = ProtobufPayload
        guard let fields = PB.decode(data["pb"]) else { return nil }
        var rank = OnlineRank()
        for field in fields {
            switch field.number {
            case 1: rank.rankType = PB.text(field)
            case 3:
                guard let itemFields = PB.bytes(field).flatMap(PB.collect) else { return nil }
                var entry = Entry()
                for item in itemFields {
                    switch item.number {
                    case 1: entry.uid = PB.int(item)
                    case 3: entry.score = PB.text(item)
                    case 4: entry.uname = PB.text(item)
                    case 5: entry.rank = PB.int(item)
                    case 6: entry.guardLevel = PB.int(item)
                    default: break
                    }
                }
                rank.list.append(entry)
            default: break
            }
        }
        return rank
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "rank_type"); w.string(rankType)
        w.key(static: "list")
        w.beginArray()
        for entry in list {
            w.beginObject()
            w.key(static: "uid"); w.int(entry.uid)
            w.key(static: "uname"); w.string(entry.uname)
            w.key(static: "rank"); w.int(entry.rank)
            w.key(static: "score"); w.string(entry.score)
            w.key(static: "guard_level"); w.int(entry.guardLevel)
            w.endObject()
        }
        w.endArray()
    }

    var textLine: String {
        let top = list.prefix(3).map { "\($0.rank). \(clean($0.uname)) (\(clean($0.score)))" }
        return "\(list.count) ranked" + (top.isEmpty ? "" : ": " + top.joined(separator: ", "))
    }
}
