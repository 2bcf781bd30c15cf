import DanmuCodecs

/// `INTERACT_WORD` read on demand (issue 11; the second most frequent kind after `DANMU_MSG`): `Interact.parse`'s
/// mapping field by field, from one validating pass over the text (no tape, no document). Nil is undecided and
/// the caller takes the strict path; the differential tests hold both to the same events.
enum InteractOnDemand {
    static func parse(_ json: JSONOnDemand) -> Interact? {
        var interact = Interact()
        var seen: UInt8 = 0
        let decided = FieldsOnDemand.data(json) { data in
            json.members(data, depth: 1) { keyStart, keyLength, value in
                if FieldsOnDemand.claim(json, keyStart, keyLength, "msg_type", 1, &seen) {
                    return FieldsOnDemand.int(json, value, depth: 2, &interact.msgType)
                }
                if FieldsOnDemand.claim(json, keyStart, keyLength, "uid", 2, &seen) {
                    return FieldsOnDemand.int(json, value, depth: 2, &interact.uid)
                }
                if FieldsOnDemand.claim(json, keyStart, keyLength, "uname", 4, &seen) {
                    return FieldsOnDemand.string(json, value, depth: 2, &interact.uname)
                }
                if FieldsOnDemand.claim(json, keyStart, keyLength, "fans_medal", 8, &seen) {
                    return FieldsOnDemand.fansMedal(json, value, depth: 2, &interact.medal)
                }
                if FieldsOnDemand.claim(json, keyStart, keyLength, "timestamp", 16, &seen) {
                    return FieldsOnDemand.int(json, value, depth: 2, &interact.timestamp)
                }
                if FieldsOnDemand.claim(json, keyStart, keyLength, "roomid", 32, &seen) {
                    return FieldsOnDemand.int(json, value, depth: 2, &interact.roomID)
                }
                return JSONOnDemand.skip
            }
        }
        guard decided else { return nil }
        // Absent fields read as 0 / "" on the strict path too; `Interact()`'s msg_type default is 1.
        if seen & 1 == 0 { interact.msgType = 0 }
        interact.action = Interact.Action(msgType: interact.msgType)
        interact.isNameMasked = interact.uid == 0 || interact.uname.hasSuffix("***")
        return interact
    }
}
