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
                func first(_ key: StaticString, _ bit: UInt8) -> Bool {
                    guard seen & bit == 0, json.key(keyStart, keyLength, is: key) else { return false }
                    seen |= bit
                    return true
                }
                if first("msg_type", 1) { return FieldsOnDemand.int(json, value, depth: 2, &interact.msgType) }
                if first("uid", 2) { return FieldsOnDemand.int(json, value, depth: 2, &interact.uid) }
                if first("uname", 4) { return FieldsOnDemand.string(json, value, depth: 2, &interact.uname) }
                if first("fans_medal", 8) { return FieldsOnDemand.fansMedal(json, value, depth: 2, &interact.medal) }
                if first("timestamp", 16) { return FieldsOnDemand.int(json, value, depth: 2, &interact.timestamp) }
                if first("roomid", 32) { return FieldsOnDemand.int(json, value, depth: 2, &interact.roomID) }
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
