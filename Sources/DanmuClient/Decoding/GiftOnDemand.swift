import DanmuCodecs

/// `SEND_GIFT` read on demand (issue 11): `Gift.parse`'s mapping field by field, from one validating pass over
/// the text. The strict path's fallbacks are kept: `giftId` wins over `gift_id` whenever it is present (whatever
/// its value), `giftName` over `gift_name`. Nil is undecided and the caller takes the strict path.
enum GiftOnDemand {
    static func parse(_ json: JSONOnDemand) -> Gift? {
        var gift = Gift()
        // `data["giftId"] ?? data["gift_id"]`: both read, the camel-case one used when present.
        var giftID: (camel: Int64, snake: Int64) = (0, 0)
        var giftName: (camel: String, snake: String) = ("", "")
        var tid = ""
        var batch = ""
        var guardLevel: Int64 = 0
        var seen: UInt32 = 0
        let decided = FieldsOnDemand.data(json) { data in
            json.members(data, depth: 1) { keyStart, keyLength, value in
                typealias F = FieldsOnDemand
                if F.claim(json, keyStart, keyLength, "giftId", 1 << 0, &seen) {
                    return F.int(json, value, depth: 2, &giftID.camel)
                }
                if F.claim(json, keyStart, keyLength, "gift_id", 1 << 1, &seen) {
                    return F.int(json, value, depth: 2, &giftID.snake)
                }
                if F.claim(json, keyStart, keyLength, "giftName", 1 << 2, &seen) {
                    return F.string(json, value, depth: 2, &giftName.camel)
                }
                if F.claim(json, keyStart, keyLength, "gift_name", 1 << 3, &seen) {
                    return F.string(json, value, depth: 2, &giftName.snake)
                }
                if F.claim(json, keyStart, keyLength, "num", 1 << 4, &seen) {
                    return F.int(json, value, depth: 2, &gift.num)
                }
                if F.claim(json, keyStart, keyLength, "price", 1 << 5, &seen) {
                    return F.int(json, value, depth: 2, &gift.price)
                }
                if F.claim(json, keyStart, keyLength, "coin_type", 1 << 6, &seen) {
                    return F.string(json, value, depth: 2, &gift.coinType)
                }
                if F.claim(json, keyStart, keyLength, "total_coin", 1 << 7, &seen) {
                    return F.int(json, value, depth: 2, &gift.totalCoin)
                }
                if F.claim(json, keyStart, keyLength, "uid", 1 << 8, &seen) {
                    return F.int(json, value, depth: 2, &gift.uid)
                }
                if F.claim(json, keyStart, keyLength, "uname", 1 << 9, &seen) {
                    return F.string(json, value, depth: 2, &gift.uname)
                }
                if F.claim(json, keyStart, keyLength, "action", 1 << 10, &seen) {
                    return F.string(json, value, depth: 2, &gift.action)
                }
                if F.claim(json, keyStart, keyLength, "timestamp", 1 << 11, &seen) {
                    return F.int(json, value, depth: 2, &gift.timestamp)
                }
                if F.claim(json, keyStart, keyLength, "tid", 1 << 12, &seen) {
                    return F.stringOrNumber(json, value, depth: 2, &tid)
                }
                if F.claim(json, keyStart, keyLength, "batch_combo_id", 1 << 13, &seen) {
                    return F.string(json, value, depth: 2, &batch)
                }
                if F.claim(json, keyStart, keyLength, "medal_info", 1 << 14, &seen) {
                    return F.fansMedal(json, value, depth: 2, &gift.medal)
                }
                if F.claim(json, keyStart, keyLength, "guard_level", 1 << 15, &seen) {
                    return F.int(json, value, depth: 2, &guardLevel)
                }
                if F.claim(json, keyStart, keyLength, "blind_gift", 1 << 16, &seen) {
                    return blindGiftName(json, value, &gift.blindGiftName)
                }
                if F.claim(json, keyStart, keyLength, "receive_user_info", 1 << 17, &seen) {
                    return receiverUID(json, value, &gift.receiverUID)
                }
                return JSONOnDemand.skip
            }
        }
        guard decided else { return nil }
        gift.giftID = seen & 1 << 0 != 0 ? giftID.camel : giftID.snake
        gift.giftName = seen & 1 << 2 != 0 ? giftName.camel : giftName.snake
        gift.tid = tid.isEmpty ? nil : tid
        gift.batchComboID = batch.isEmpty ? nil : batch
        gift.guardLevel = Int(guardLevel)
        return gift
    }

    /// `blind_gift`: when an object, its first `original_gift_name` if that is a string.
    private static func blindGiftName(_ json: JSONOnDemand, _ position: Int, _ found: inout String?) -> Int {
        guard json.byte(position) == 0x7B else { return JSONOnDemand.skip }
        var seen = false
        return json.members(position, depth: 2) { keyStart, keyLength, value in
            guard !seen, json.key(keyStart, keyLength, is: "original_gift_name") else { return JSONOnDemand.skip }
            seen = true
            let (text, end) = json.string(value, depth: 3)
            found = text
            return end
        }
    }

    /// `receive_user_info.uid` read leniently; nil when either is absent or of another type.
    private static func receiverUID(_ json: JSONOnDemand, _ position: Int, _ found: inout Int64?) -> Int {
        guard json.byte(position) == 0x7B else { return JSONOnDemand.skip }
        var seen = false
        return json.members(position, depth: 2) { keyStart, keyLength, value in
            guard !seen, json.key(keyStart, keyLength, is: "uid") else { return JSONOnDemand.skip }
            seen = true
            let (number, end) = json.int64Lenient(value, depth: 3)
            found = number
            return end
        }
    }
}
