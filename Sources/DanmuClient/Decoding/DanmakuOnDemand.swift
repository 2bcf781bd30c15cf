import DanmuCodecs

/// `DANMU_MSG` read on demand (issue 11): the fields `Danmaku` needs are found in one validating pass over the
/// message and everything else is skipped, with no tape and no document; `info[0][15].extra` (JSON inside a
/// string) is unescaped into scratch memory and read the same way, not parsed a second time from a new array.
///
/// The mapping is `Danmaku.parse(_:)`'s, field by field (the first member of a key wins, absent or mistyped
/// fields keep their defaults), and the differential tests hold the two to the same result on every fixture.
/// Nil means "not decided here" (malformed text, an escaped key, a fraction where an integer is read, `info`
/// missing or not an array): the caller then takes the strict path, which decides exactly as before.
enum DanmakuOnDemand {
    /// `cmd` is the message's cmd with its suffix stripped.
    static func parse(_ json: JSONOnDemand, cmd: String) -> Danmaku? {
        var danmaku = Danmaku()
        danmaku.cmd = cmd
        var extra = Extra()
        var sawInfo = false
        let end = json.members(json.rootStart, depth: 0) { keyStart, keyLength, value in
            guard !sawInfo, json.key(keyStart, keyLength, is: "info") else { return JSONOnDemand.skip }
            sawInfo = true
            return info(json, value, &danmaku, &extra)
        }
        guard sawInfo, json.isDocumentEnd(end) else { return nil }
        danmaku.isNameMasked = danmaku.uid == 0 || danmaku.uname.hasSuffix("***")
        if let id = extra.idStr, !id.isEmpty { danmaku.idStr = id }
        if let replyUID = extra.replyMid, replyUID != 0 {
            danmaku.replyToUID = replyUID
            danmaku.replyToUname = extra.replyUname
        }
        if danmaku.text.isEmpty, let content = extra.content { danmaku.text = content }
        // Still no text: the strict path reads the `dm_v2` fallback (DanmakuV2.swift); rare, so it is not
        // duplicated here.
        guard !danmaku.text.isEmpty else { return nil }
        return danmaku
    }

    /// What `info[0][15].extra` holds for `Danmaku`, applied after `info` is read (the text may come later).
    private struct Extra {
        var idStr: String?
        var replyMid: Int64?
        var replyUname: String?
        var content: String?
    }

    /// `info`, depth 1. Not an array: undecided (the strict path makes it `.unknown`).
    private static func info(_ json: JSONOnDemand, _ position: Int, _ d: inout Danmaku, _ extra: inout Extra) -> Int {
        guard json.byte(position) == 0x5B else { return JSONOnDemand.fail }
        return json.elements(position, depth: 1) { index, value in
            switch index {
            case 0: return meta(json, value, &d, &extra)
            case 1:
                let (text, end) = json.string(value, depth: 2)
                if let text { d.text = text }
                return end
            case 2: return user(json, value, &d)
            case 3: return medal(json, value, &d)
            case 4:
                return firstInt(json, value, depth: 2) { d.userLevel = Int($0) }
            case 7:
                let (level, end) = json.int64Lenient(value, depth: 2)
                if let level { d.guardLevel = Int(level) }
                return end
            case 16:
                return firstInt(json, value, depth: 2) { d.wealthLevel = Int($0) }
            default: return JSONOnDemand.skip
            }
        }
    }

    /// `x[0]` as an integer when `x` is an array (`info[4]`, `info[16]`).
    private static func firstInt(_ json: JSONOnDemand, _ position: Int, depth: Int, _ found: (Int64) -> Void) -> Int {
        guard json.byte(position) == 0x5B else { return JSONOnDemand.skip }
        return json.elements(position, depth: depth) { index, value in
            guard index == 0 else { return JSONOnDemand.skip }
            let (number, end) = json.int64Lenient(value, depth: depth &+ 1)
            if let number { found(number) }
            return end
        }
    }

    /// `info[0]`: mode, font size, color, send time, user hash, emoticon options, mode info (`extra`).
    private static func meta(_ json: JSONOnDemand, _ position: Int, _ d: inout Danmaku, _ extra: inout Extra) -> Int {
        guard json.byte(position) == 0x5B else { return JSONOnDemand.skip }
        return json.elements(position, depth: 2) { index, value in
            switch index {
            case 1, 2, 3, 4:
                let (number, end) = json.int64Lenient(value, depth: 3)
                if let number {
                    switch index {
                    case 1: d.mode = Int(number)
                    case 2: d.fontSize = Int(number)
                    case 3: d.color = number
                    default: d.sendTimeMs = number
                    }
                }
                return end
            case 7:
                let (hash, end) = json.string(value, depth: 3)
                if let hash { d.userHash = hash }
                return end
            case 13: return emoticon(json, value, &d)
            case 15: return modeInfo(json, value, &extra)
            default: return JSONOnDemand.skip
            }
        }
    }

    /// `info[0][13]`: an object for sticker danmaku (else the string `"{}"`).
    private static func emoticon(_ json: JSONOnDemand, _ position: Int, _ d: inout Danmaku) -> Int {
        guard json.byte(position) == 0x7B else { return JSONOnDemand.skip }
        var url: String??
        var unique: String??
        var width: Int64??
        var height: Int64??
        let end = json.members(position, depth: 3) { keyStart, keyLength, value in
            if url == nil, json.key(keyStart, keyLength, is: "url") {
                let (text, end) = json.string(value, depth: 4)
                url = .some(text)
                return end
            }
            if unique == nil, json.key(keyStart, keyLength, is: "emoticon_unique") {
                let (text, end) = json.string(value, depth: 4)
                unique = .some(text)
                return end
            }
            if width == nil, json.key(keyStart, keyLength, is: "width") {
                let (number, end) = json.int64Lenient(value, depth: 4)
                width = .some(number)
                return end
            }
            if height == nil, json.key(keyStart, keyLength, is: "height") {
                let (number, end) = json.int64Lenient(value, depth: 4)
                height = .some(number)
                return end
            }
            return JSONOnDemand.skip
        }
        if end >= 0, let found = url, let url = found, !url.isEmpty {
            d.emoticon = Emoticon(
                unique: (unique ?? nil) ?? "", url: url, width: Int((width ?? nil) ?? 0),
                height: Int((height ?? nil) ?? 0))
        }
        return end
    }

    /// `info[0][15]`: its `extra` member is a JSON document inside a string.
    private static func modeInfo(_ json: JSONOnDemand, _ position: Int, _ extra: inout Extra) -> Int {
        guard json.byte(position) == 0x7B else { return JSONOnDemand.skip }
        var sawExtra = false
        return json.members(position, depth: 3) { keyStart, keyLength, value in
            guard !sawExtra, json.key(keyStart, keyLength, is: "extra") else { return JSONOnDemand.skip }
            sawExtra = true
            guard json.byte(value) == 0x22 else { return JSONOnDemand.skip }
            return json.withStringBytes(value) { bytes in
                // The strict path ignores an `extra` that is not JSON (`try?`); here that is undecided, since
                // this reader also gives up on text it does not handle alone.
                guard let inner = JSONOnDemand(bytes, maxDepth: 16) else { return false }
                return readExtra(inner, &extra)
            }
        }
    }

    /// The `extra` document: `id_str`, `reply_mid`, `reply_uname`, `content` (first member of each).
    private static func readExtra(_ json: JSONOnDemand, _ extra: inout Extra) -> Bool {
        let root = json.rootStart
        guard json.byte(root) == 0x7B else { return json.isDocumentEnd(json.skipValue(root, depth: 0)) }
        var found = Extra()
        var seen: UInt8 = 0
        let end = json.members(root, depth: 0) { keyStart, keyLength, value in
            if seen & 1 == 0, json.key(keyStart, keyLength, is: "id_str") {
                seen |= 1
                let (text, end) = json.string(value, depth: 1)
                found.idStr = text
                return end
            }
            if seen & 2 == 0, json.key(keyStart, keyLength, is: "reply_mid") {
                seen |= 2
                let (number, end) = json.int64Lenient(value, depth: 1)
                found.replyMid = number
                return end
            }
            if seen & 4 == 0, json.key(keyStart, keyLength, is: "reply_uname") {
                seen |= 4
                let (text, end) = json.string(value, depth: 1)
                found.replyUname = text
                return end
            }
            if seen & 8 == 0, json.key(keyStart, keyLength, is: "content") {
                seen |= 8
                let (text, end) = json.string(value, depth: 1)
                found.content = text
                return end
            }
            return JSONOnDemand.skip
        }
        guard json.isDocumentEnd(end) else { return false }
        extra = found
        return true
    }

    /// `info[2]`: uid, uname, admin flag.
    private static func user(_ json: JSONOnDemand, _ position: Int, _ d: inout Danmaku) -> Int {
        guard json.byte(position) == 0x5B else { return JSONOnDemand.skip }
        return json.elements(position, depth: 2) { index, value in
            switch index {
            case 0, 2:
                let (number, end) = json.int64Lenient(value, depth: 3)
                if index == 0 { d.uid = number ?? 0 } else { d.isAdmin = (number ?? 0) != 0 }
                return end
            case 1:
                let (name, end) = json.string(value, depth: 3)
                if let name { d.uname = name }
                return end
            default: return JSONOnDemand.skip
            }
        }
    }

    /// `info[3]`: `[level, name, anchor uname, anchor room id, color, special, 0, border, start, end, guard level,
    /// is_lighted, anchor uid]`; no medal for `[]`, `null`, or a nameless one.
    private static func medal(_ json: JSONOnDemand, _ position: Int, _ d: inout Danmaku) -> Int {
        guard json.byte(position) == 0x5B else { return JSONOnDemand.skip }
        var count = 0
        var name: String?
        var anchorName = ""
        var numbers: (level: Int64, room: Int64, color: Int64, guardLevel: Int64, uid: Int64) = (0, 0, 0, 0, 0)
        var lighted: Int64?
        let end = json.elements(position, depth: 2) { index, value in
            count = index &+ 1
            switch index {
            case 1, 2:
                let (text, end) = json.string(value, depth: 3)
                if index == 1 { name = text } else { anchorName = text ?? "" }
                return end
            case 0, 3, 4, 10, 11, 12:
                let (number, end) = json.int64Lenient(value, depth: 3)
                switch index {
                case 0: numbers.level = number ?? 0
                case 3: numbers.room = number ?? 0
                case 4: numbers.color = number ?? 0
                case 10: numbers.guardLevel = number ?? 0
                case 11: lighted = number
                default: numbers.uid = number ?? 0
                }
                return end
            default: return JSONOnDemand.skip
            }
        }
        if end >= 0, count >= 2, let name, !name.isEmpty {
            d.medal = Medal(
                name: name, level: Int(numbers.level), anchorRoomID: numbers.room, anchorUID: numbers.uid,
                anchorName: anchorName, guardLevel: Int(numbers.guardLevel), isLighted: (lighted ?? 1) != 0,
                color: numbers.color)
        }
        return end
    }
}
