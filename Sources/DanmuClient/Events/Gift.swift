import DanmuCodecs

/// A gift (`SEND_GIFT` JSON, or one gift of a protobuf `SEND_GIFT_V2`), docs/protocol.md §13.1.
public struct Gift: Sendable, Equatable {
    public var cmd: String = "SEND_GIFT"
    public var giftID: Int64 = 0
    public var giftName: String = ""
    public var num: Int64 = 0
    /// Per unit, in 瓜子 (gold: 1000 = ¥1).
    public var price: Int64 = 0
    /// `"gold"` (paid) or `"silver"` (free).
    public var coinType: String = ""
    /// Actual total (blind boxes: box price × num).
    public var totalCoin: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    /// "投喂", "喂食"…
    public var action: String = ""
    /// Unix seconds.
    public var timestamp: Int64 = 0
    /// De-duplication id (`tid`), when present.
    public var tid: String?
    public var batchComboID: String?
    public var medal: Medal?
    public var guardLevel: Int = 0
    /// For blind boxes: the box that was bought.
    public var blindGiftName: String?
    /// The receiver (anchor or a co-host), when given.
    public var receiverUID: Int64?

    public init() {}
}

/// `COMBO_SEND`: summary of a gift combo.
public struct ComboSend: Sendable, Equatable {
    public var giftID: Int64 = 0
    public var giftName: String = ""
    public var comboNum: Int64 = 0
    public var totalNum: Int64 = 0
    public var comboTotalCoin: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    public var action: String = ""
    public var batchComboID: String = ""
    public var medal: Medal?
    public var receiverUID: Int64?

    public init() {}
}

extension Gift: EventKindCodec {
    static var kind: EventKind { .gift }
    static let commands = ["SEND_GIFT", "SEND_GIFT_V2"]
    var event: DanmuEvent { .gift(self) }

    /// `SEND_GIFT`: the `data` object.
    static func parse(_ message: EventMessage) -> Gift? {
        guard let data = message.data else { return nil }
        var gift = Gift()
        gift.giftID = int(data["giftId"] ?? data["gift_id"])
        gift.giftName = string(data["giftName"] ?? data["gift_name"])
        gift.num = int(data["num"])
        gift.price = int(data["price"])
        gift.coinType = string(data["coin_type"])
        gift.totalCoin = int(data["total_coin"])
        gift.uid = int(data["uid"])
        gift.uname = string(data["uname"])
        gift.action = string(data["action"])
        gift.timestamp = int(data["timestamp"])
        let tid = stringOrNumber(data["tid"])
        gift.tid = tid.isEmpty ? nil : tid
        let batch = string(data["batch_combo_id"])
        gift.batchComboID = batch.isEmpty ? nil : batch
        gift.medal = fansMedal(data["medal_info"])
        gift.guardLevel = Int(int(data["guard_level"]))
        if let blind = data["blind_gift"], blind.kind == .object {
            gift.blindGiftName = blind["original_gift_name"]?.string
        }
        gift.receiverUID = data["receive_user_info"]?["uid"]?.int64Lenient
        return gift
    }

    /// `SEND_GIFT_V2` carries one sender and any number of gifts: one event per gift. No gift (or a payload
    /// that does not decode) means no event, so the message arrives as `.unknown`. A payload whose top-level
    /// `switch` (field 11) is not true is handled with no event: the web page only handles V2 when it is true,
    /// and danmu delivers exactly the gifts the page shows.
    static func parse(_ message: EventMessage, into events: inout [DanmuEvent]) -> Bool {
        if message.cmd == "SEND_GIFT_V2" {
            guard let (gifts, enabled) = message.data.flatMap(parseProtobuf), !gifts.isEmpty else { return false }
            if enabled { events.append(contentsOf: gifts.map(DanmuEvent.gift)) }
            return true
        }
        guard let gift = parse(message) else { return false }
        events.append(.gift(gift))
        return true
    }

    /// `SEND_GIFT_V2` (SendGiftBroadcast) in `data.pb`: 1 uid, 2 uname, 5 guard_level, 8 medal_info, 9 blind_gift,
    /// 10 repeated gift{1 id, 2 name, 3 num, 5 price, 7 total_coin, 8 coin_type, 9 tid, 10 timestamp,
    /// 12 batch_combo_id, 18 action, 29 receive_user_info{uname, uid}}, 11 switch. The gifts and `switch`.
    static func parseProtobuf(_ data: JSONNode) -> (gifts: [Gift], enabled: Bool)? {
        typealias PB = ProtobufPayload
        guard let fields = PB.decode(data["pb"]) else { return nil }
        var sender = Gift()
        sender.cmd = "SEND_GIFT_V2"
        var giftMessages: [ArraySlice<UInt8>] = []
        var enabled = false
        for field in fields {
            switch field.number {
            case 1: sender.uid = PB.int(field)
            case 2: sender.uname = PB.text(field)
            case 5: sender.guardLevel = Int(PB.int(field))
            case 8:
                sender.medal = PB.medal(
                    field, name: 6, level: 5, roomID: 4, targetID: 1, lighted: 11, guardLevel: 12)
            case 9:
                if let blind = PB.bytes(field).flatMap(PB.collect) {
                    for inner in blind where inner.number == 3 { sender.blindGiftName = PB.text(inner) }
                }
            case 10: if let bytes = PB.bytes(field) { giftMessages.append(bytes) }
            case 11: enabled = PB.int(field) != 0
            default: break
            }
        }
        var gifts: [Gift] = []
        for bytes in giftMessages {
            guard let giftFields = PB.collect(bytes) else { return nil }
            var gift = sender
            for field in giftFields {
                switch field.number {
                case 1: gift.giftID = PB.int(field)
                case 2: gift.giftName = PB.text(field)
                case 3: gift.num = PB.int(field)
                case 5: gift.price = PB.int(field)
                case 7: gift.totalCoin = PB.int(field)
                case 8: gift.coinType = PB.text(field)
                case 9:
                    let tid = PB.text(field)
                    gift.tid = tid.isEmpty ? String(PB.int(field)) : tid
                case 10: gift.timestamp = PB.int(field)
                case 12:
                    let batch = PB.text(field)
                    gift.batchComboID = batch.isEmpty ? nil : batch
                case 18: gift.action = PB.text(field)
                case 29: gift.receiverUID = PB.bytes(field).flatMap(receiverUID)
                default: break
                }
            }
            gifts.append(gift)
        }
        return (gifts, enabled)
    }

    /// ReceiveUserInfo: a string uname and a varint uid; the uid is its (only) varint field, whichever number
    /// the published stubs give it (they list uname before uid). nil when there is none.
    private static func receiverUID(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard let fields = ProtobufPayload.collect(bytes) else { return nil }
        for field in fields {
            if case .varint = field.value { return ProtobufPayload.int(field) }
        }
        return nil
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "gift_id"); w.int(giftID)
        w.key(static: "gift_name"); w.string(giftName)
        w.key(static: "num"); w.int(num)
        w.key(static: "price"); w.int(price)
        w.key(static: "coin_type"); w.string(coinType)
        w.key(static: "total_coin"); w.int(totalCoin)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "action"); w.string(action)
        w.key(static: "timestamp"); w.int(timestamp)
        w.key(static: "tid"); w.optional(tid)
        w.key(static: "batch_combo_id"); w.optional(batchComboID)
        w.key(static: "medal"); w.optional(medal)
        w.key(static: "guard_level"); w.int(guardLevel)
        w.key(static: "blind_gift_name"); w.optional(blindGiftName)
        w.key(static: "receiver_uid"); w.optional(receiverUID)
    }

    var textLine: String {
        let blind = blindGiftName.map { " from \(clean($0))" } ?? ""
        return "\(medalTag(medal))\(clean(uname)) \(clean(action)) \(clean(giftName)) x\(num)\(blind)"
            + " (\(totalCoin) \(clean(coinType)))"
    }
}

extension ComboSend: EventKindCodec {
    static var kind: EventKind { .combo }
    static let commands = ["COMBO_SEND"]
    var event: DanmuEvent { .combo(self) }
    var cmd: String { "COMBO_SEND" }

    static func parse(_ message: EventMessage) -> ComboSend? {
        guard let data = message.data else { return nil }
        var combo = ComboSend()
        combo.giftID = int(data["gift_id"])
        combo.giftName = string(data["gift_name"])
        combo.comboNum = int(data["combo_num"])
        combo.totalNum = int(data["total_num"])
        combo.comboTotalCoin = int(data["combo_total_coin"])
        combo.uid = int(data["uid"])
        combo.uname = string(data["uname"])
        combo.action = string(data["action"])
        combo.batchComboID = string(data["batch_combo_id"])
        combo.medal = fansMedal(data["medal_info"])
        combo.receiverUID = (data["receive_user_info"]?["uid"] ?? data["ruid"])?.int64Lenient
        return combo
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "gift_id"); w.int(giftID)
        w.key(static: "gift_name"); w.string(giftName)
        w.key(static: "combo_num"); w.int(comboNum)
        w.key(static: "total_num"); w.int(totalNum)
        w.key(static: "combo_total_coin"); w.int(comboTotalCoin)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "action"); w.string(action)
        w.key(static: "batch_combo_id"); w.string(batchComboID)
        w.key(static: "medal"); w.optional(medal)
        w.key(static: "receiver_uid"); w.optional(receiverUID)
    }

    var textLine: String {
        "\(clean(uname)) \(clean(action)) \(clean(giftName)) combo x\(comboNum) total \(totalNum)"
    }
}
