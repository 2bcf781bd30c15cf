import DanmuCodecs

/// What the on-demand readers of `INTERACT_WORD` and `SEND_GIFT` share (issue 11): the walk to the message's
/// `data` object and the helpers of `EventKindCodec` (`int`, `string`, `fansMedal`, …) by the same rules, read
/// straight from the text. Like `DanmakuOnDemand`, every reader gives the strict path's result or nil
/// (undecided: the caller parses the message in full).
enum FieldsOnDemand {
    /// Walks the root object, calling `body` with the position of the first `data` member's value when it is an
    /// object; true when the whole text was walked and valid. Undecided (false) without `data`, or when it is not
    /// an object (the strict path then reads every field as absent or gives `.unknown`: rare, so not repeated).
    static func data(_ json: JSONOnDemand, _ body: (Int) -> Int) -> Bool {
        var sawData = false
        let end = json.members(json.rootStart, depth: 0) { keyStart, keyLength, value in
            guard !sawData, json.key(keyStart, keyLength, is: "data") else { return JSONOnDemand.skip }
            sawData = true
            guard json.byte(value) == 0x7B else { return JSONOnDemand.fail }
            return body(value)
        }
        return sawData && json.isDocumentEnd(end)
    }

    /// Whether the member's key is `key` and the first of that name (`bit` in `seen` not yet set; sets it). A
    /// function of its own rather than a closure over `seen`: a nested function capturing the walk's variables
    /// made Swift box them and check exclusivity at run time on every access (a third of the instructions).
    @inline(__always)
    static func claim<Bits: FixedWidthInteger>(
        _ json: JSONOnDemand, _ keyStart: Int, _ keyLength: Int, _ key: StaticString, _ bit: Bits, _ seen: inout Bits
    ) -> Bool {
        guard seen & bit == 0, json.key(keyStart, keyLength, is: key) else { return false }
        seen |= bit
        return true
    }

    /// `int(node)`: `int64Lenient ?? 0`; ``JSONOnDemand/fail`` where the strict path would compute.
    @inline(__always)
    static func int(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: inout Int64) -> Int {
        let (number, end) = json.int64Lenient(position, depth: depth)
        found = number ?? 0
        return end
    }

    /// `string(node)`: the string, or "" for another value.
    @inline(__always)
    static func string(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: inout String) -> Int {
        let (text, end) = json.string(position, depth: depth)
        found = text ?? ""
        return end
    }

    /// `stringOrNumber(node)`: a string's value, a number's literal text, else "".
    static func stringOrNumber(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: inout String) -> Int {
        switch json.byte(position) {
        case 0x22: return string(json, position, depth: depth, &found)
        case 0x2D, 0x30...0x39:
            let end = json.skipValue(position, depth: depth)
            found = end >= 0 ? json.text(from: position, to: end) : ""
            return end
        default:
            found = ""
            return json.skipValue(position, depth: depth)
        }
    }

    /// `fansMedal(node)` (`medal_info`, `fans_medal`): nil unless an object with a name or a level; the first
    /// member of each key, as `JSONNode`'s lookup.
    static func fansMedal(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: inout Medal?) -> Int {
        found = nil
        guard json.byte(position) == 0x7B else { return json.skipValue(position, depth: depth) }
        var name = ""
        var anchorName = ""
        var level: Int64 = 0
        var room: Int64 = 0
        var uid: Int64 = 0
        var guardLevel: Int64 = 0
        var lighted: Int64 = 0
        var color: Int64 = 0
        var seen: UInt16 = 0
        let inner = depth &+ 1
        let end = json.members(position, depth: depth) { keyStart, keyLength, value in
            if claim(json, keyStart, keyLength, "medal_name", 1, &seen) {
                return string(json, value, depth: inner, &name)
            }
            if claim(json, keyStart, keyLength, "medal_level", 2, &seen) {
                return int(json, value, depth: inner, &level)
            }
            if claim(json, keyStart, keyLength, "anchor_roomid", 4, &seen) {
                return int(json, value, depth: inner, &room)
            }
            if claim(json, keyStart, keyLength, "target_id", 8, &seen) { return int(json, value, depth: inner, &uid) }
            if claim(json, keyStart, keyLength, "anchor_uname", 16, &seen) {
                return string(json, value, depth: inner, &anchorName)
            }
            if claim(json, keyStart, keyLength, "guard_level", 32, &seen) {
                return int(json, value, depth: inner, &guardLevel)
            }
            if claim(json, keyStart, keyLength, "is_lighted", 64, &seen) {
                return int(json, value, depth: inner, &lighted)
            }
            if claim(json, keyStart, keyLength, "medal_color", 128, &seen) {
                return medalColor(json, value, depth: inner, &color)
            }
            return JSONOnDemand.skip
        }
        guard end >= 0 else { return end }
        if name.isEmpty && level == 0 { return end }
        found = Medal(
            name: name, level: Int(level), anchorRoomID: room, anchorUID: uid, anchorName: anchorName,
            guardLevel: Int(guardLevel), isLighted: lighted != 0, color: color)
        return end
    }

    /// `medalColor(node)`: a string as CSS hex, else `int`.
    private static func medalColor(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: inout Int64) -> Int {
        guard json.byte(position) == 0x22 else { return int(json, position, depth: depth, &found) }
        var text = ""
        let end = string(json, position, depth: depth, &text)
        found = Gift.medalColor(hex: text)
        return end
    }
}
