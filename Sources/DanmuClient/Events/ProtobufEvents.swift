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
            case 1: interact.uid = ProtobufEvents.int(field)
            case 2: interact.uname = ProtobufEvents.text(field)
            case 5: interact.msgType = ProtobufEvents.int(field)
            case 6: interact.roomID = ProtobufEvents.int(field)
            case 7: interact.timestamp = ProtobufEvents.int(field)
            case 9: interact.medal = medal(fields: ProtobufEvents.bytes(field).flatMap(collect), name: 3, level: 2, roomID: 12, targetID: 1)
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
            case 1: sender.uid = ProtobufEvents.int(field)
            case 2: sender.uname = ProtobufEvents.text(field)
            case 5: sender.guardLevel = Int(ProtobufEvents.int(field))
            case 8: sender.medal = medal(fields: ProtobufEvents.bytes(field).flatMap(collect), name: 6, level: 5, roomID: 4, targetID: 1)
            case 9:
                if let blind = ProtobufEvents.bytes(field).flatMap(collect) {
                    for inner in blind where inner.number == 3 { sender.blindGiftName = ProtobufEvents.text(inner) }
                }
            case 10: if let bytes = ProtobufEvents.bytes(field) { giftMessages.append(bytes) }
            default: break
            }
        }
        var gifts: [Gift] = []
        for bytes in giftMessages {
            guard let giftFields = collect(bytes) else { return nil }
            var gift = sender
            for field in giftFields {
                switch field.number {
                case 1: gift.giftID = ProtobufEvents.int(field)
                case 2: gift.giftName = ProtobufEvents.text(field)
                case 3: gift.num = ProtobufEvents.int(field)
                case 5: gift.price = ProtobufEvents.int(field)
                case 7: gift.totalCoin = ProtobufEvents.int(field)
                case 8: gift.coinType = ProtobufEvents.text(field)
                case 9:
                    let tid = ProtobufEvents.text(field)
                    gift.tid = tid.isEmpty ? String(ProtobufEvents.int(field)) : tid
                case 10: gift.timestamp = ProtobufEvents.int(field)
                case 18: gift.action = ProtobufEvents.text(field)
                default: break
                }
            }
            gifts.append(gift)
        }
        return gifts
    }

    // Field accessors kept out of line: swiftc 6.3.1 -O crashed ("Found ownership error") when the
    // ProtobufField computed properties were inlined into the switch loops above.
    @inline(never) static func int(_ field: ProtobufField) -> Int64 {
        if case .varint(let v) = field.value { return Int64(bitPattern: v) }
        return 0
    }

    @inline(never) static func bytes(_ field: ProtobufField) -> ArraySlice<UInt8>? {
        if case .lengthDelimited(let b) = field.value { return b }
        return nil
    }

    @inline(never) static func text(_ field: ProtobufField) -> String {
        guard case .lengthDelimited(let b) = field.value else { return "" }
        return String(validating: b, as: UTF8.self) ?? String(decoding: b, as: UTF8.self)
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
        var medalName = "", medalLevel = 0, anchorRoomID: Int64 = 0, anchorUID: Int64 = 0
        for field in fields {
            switch field.number {
            case name: medalName = text(field)
            case level: medalLevel = Int(int(field))
            case roomID: anchorRoomID = int(field)
            case targetID: anchorUID = int(field)
            default: break
            }
        }
        if medalName.isEmpty && medalLevel == 0 { return nil }
        return Medal(name: medalName, level: medalLevel, anchorRoomID: anchorRoomID, anchorUID: anchorUID)
    }
}
