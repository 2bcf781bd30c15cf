import DanmuCodecs

/// `DANMU_MSG` `info` array → `Danmaku` (PROTOCOL.md §12). Indexed defensively: 2018–2021 arrays are short
/// (`info[0]` has 12 items, no `[15]`), `info[3]` may be `[]` or `null`, `info[4]` may be `[]`,
/// `info[0][13]` is an object or the string `"{}"`, and `info[0][15].extra` is JSON inside a string.
extension EventParser {
    static func parseDanmaku(_ info: JSONNode, cmd: String) -> Danmaku? {
        guard info.kind == .array else { return nil }
        var danmaku = Danmaku()
        danmaku.cmd = cmd
        let meta = info[0]
        danmaku.mode = Int(meta?[1]?.int64Lenient ?? 1)
        danmaku.fontSize = Int(meta?[2]?.int64Lenient ?? 25)
        danmaku.color = meta?[3]?.int64Lenient ?? 0xFFFFFF
        danmaku.sendTimeMs = int(meta?[4])
        danmaku.userHash = str(meta?[7])
        danmaku.text = str(info[1])

        let user = info[2]
        danmaku.uid = int(user?[0])
        danmaku.uname = str(user?[1])
        danmaku.isAdmin = int(user?[2]) != 0
        danmaku.isNameMasked = danmaku.uid == 0 || danmaku.uname.hasSuffix("***")

        danmaku.medal = danmakuMedal(info[3])
        danmaku.userLevel = Int(int(info[4]?[0]))
        danmaku.guardLevel = Int(int(info[7]))
        if let wealth = info[16]?[0]?.int64Lenient { danmaku.wealthLevel = Int(wealth) }

        // info[0][13]: emoticon options, an object for sticker danmaku, else the string "{}".
        if let options = meta?[13], options.kind == .object, let url = options["url"]?.string, !url.isEmpty {
            danmaku.emoticon = Emoticon(unique: str(options["emoticon_unique"]), url: url,
                                        width: Int(int(options["width"])), height: Int(int(options["height"])))
        }

        // info[0][15].extra: a JSON document inside a string, holding id_str and reply info.
        if let modeInfo = meta?[15], modeInfo.kind == .object, let extraText = modeInfo["extra"]?.string,
           let extra = try? JSONDocument(parsing: Array(extraText.utf8), maxDepth: 16) {
            let root = extra.root
            if let id = root["id_str"]?.string, !id.isEmpty { danmaku.idStr = id }
            if let replyUID = root["reply_mid"]?.int64Lenient, replyUID != 0 {
                danmaku.replyToUID = replyUID
                danmaku.replyToUname = root["reply_uname"]?.string
            }
            if danmaku.text.isEmpty, let content = root["content"]?.string { danmaku.text = content }
        }
        return danmaku
    }

    /// `info[3]`: `[level, name, anchor uname, anchor room id, color, special, 0, border, start, end, guard level,
    /// is_lighted, anchor uid]`; nil for `[]`, `null`, or a nameless medal.
    static func danmakuMedal(_ node: JSONNode?) -> Medal? {
        guard let node, node.kind == .array, node.count >= 2, let name = node[1]?.string, !name.isEmpty else {
            return nil
        }
        return Medal(name: name, level: Int(int(node[0])), anchorRoomID: int(node[3]), anchorUID: int(node[12]),
                     anchorName: str(node[2]), guardLevel: Int(int(node[10])),
                     isLighted: (node[11]?.int64Lenient ?? 1) != 0, color: int(node[4]))
    }
}
