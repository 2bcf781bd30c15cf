import DanmuCodecs

/// Protobuf-carrying cmds: base64 in `data.pb` (PROTOCOL.md §11.2; field numbers from BDM `models/pb.py`).
/// A payload that does not decode yields nil, so the message is delivered as `.unknown` with its raw JSON
/// rather than dropped.
enum ProtobufEvents {
    /// `INTERACT_WORD_V2`: 1 uid · 2 uname · 5 msg_type · 6 room_id · 7 timestamp (s) · 9 fans_medal · 22 uinfo.
    static func interactWordV2(_ data: JSONNode) -> Interact? {
        guard let fields = decode(data["pb"]) else { return nil }
        var interact = Interact()
        interact.cmd = "INTERACT_WORD_V2"
        for field in fields {
            switch field.number {
            case 1: interact.uid = field.int64 ?? 0
            case 2: interact.uname = field.string ?? ""
            case 5: interact.msgType = field.int64 ?? 0
            case 6: interact.roomID = field.int64 ?? 0
            case 7: interact.timestamp = field.int64 ?? 0
            case 9: interact.medal = field.bytes.flatMap { medal(fields: collect($0), name: 3, level: 2, roomID: 12, targetID: 1) }
            default: break
            }
        }
        interact.action = Interact.Action(msgType: interact.msgType)
        interact.isNameMasked = interact.uid == 0 || interact.uname.hasSuffix("***")
        return interact
    }

    /// `SEND_GIFT_V2` (SendGiftBroadcast): 1 uid, 2 uname, 5 guard_level, 8 medal_info, 9 blind_gift,
    /// 10 repeated gift{1 id, 2 name, 3 num, 5 price, 7 total_coin, 8 coin_type, 9 tid, 10 timestamp, 18 action}.
    static func sendGiftV2(_ data: JSONNode) -> [Gift]? {
        guard let fields = decode(data["pb"]) else { return nil }
        var sender = Gift()
        sender.cmd = "SEND_GIFT_V2"
        var giftMessages: [ArraySlice<UInt8>] = []
        for field in fields {
            switch field.number {
            case 1: sender.uid = field.int64 ?? 0
            case 2: sender.uname = field.string ?? ""
            case 5: sender.guardLevel = Int(field.int64 ?? 0)
            case 8: sender.medal = field.bytes.flatMap { medal(fields: collect($0), name: 6, level: 5, roomID: 4, targetID: 1) }
            case 9:
                if let blind = field.bytes.flatMap(collect) {
                    sender.blindGiftName = blind.first { $0.number == 3 }?.string
                }
            case 10: if let bytes = field.bytes { giftMessages.append(bytes) }
            default: break
            }
        }
        var gifts: [Gift] = []
        for bytes in giftMessages {
            guard let giftFields = collect(bytes) else { return nil }
            var gift = sender
            for field in giftFields {
                switch field.number {
                case 1: gift.giftID = field.int64 ?? 0
                case 2: gift.giftName = field.string ?? ""
                case 3: gift.num = field.int64 ?? 0
                case 5: gift.price = field.int64 ?? 0
                case 7: gift.totalCoin = field.int64 ?? 0
                case 8: gift.coinType = field.string ?? ""
                case 9: gift.tid = field.string ?? field.int64.map { String($0) }
                case 10: gift.timestamp = field.int64 ?? 0
                case 18: gift.action = field.string ?? ""
                default: break
                }
            }
            gifts.append(gift)
        }
        return gifts
    }

    /// base64 text → top-level fields; nil when either layer is malformed.
    static func decode(_ node: JSONNode?) -> [ProtobufField]? {
        guard let text = node?.string, !text.isEmpty, let bytes = try? Base64.decode(text) else { return nil }
        return collect(bytes[...])
    }

    static func collect(_ bytes: ArraySlice<UInt8>) -> [ProtobufField]? {
        var reader = ProtobufReader(bytes)
        var fields: [ProtobufField] = []
        do throws(ProtobufError) {
            while let field = try reader.next() { fields.append(field) }
        } catch {
            return nil
        }
        return fields
    }

    static func medal(fields: [ProtobufField]?, name: Int, level: Int, roomID: Int, targetID: Int) -> Medal? {
        guard let fields else { return nil }
        func value(_ n: Int) -> ProtobufField? { fields.first { $0.number == n } }
        let medalName = value(name)?.string ?? ""
        let medalLevel = Int(value(level)?.int64 ?? 0)
        if medalName.isEmpty && medalLevel == 0 { return nil }
        return Medal(name: medalName, level: medalLevel, anchorRoomID: value(roomID)?.int64 ?? 0,
                     anchorUID: value(targetID)?.int64 ?? 0)
    }
}
