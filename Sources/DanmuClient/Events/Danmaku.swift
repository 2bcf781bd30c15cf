import DanmuCodecs

/// A chat message (`DANMU_MSG`, also `DANMU_MSG_MIRROR`), from the `info` array (docs/protocol.md §12).
/// Suffixed cmds (`DANMU_MSG:4:0:2:2:2:0`, `DANMU_MSG:3:7:1:1:1:1`) arrive here with the suffix stripped.
public struct Danmaku: Sendable, Equatable {
    public var cmd: String = "DANMU_MSG"
    /// `info[1]`. For mode-7 special danmaku this is itself a JSON array in a string (kept verbatim).
    public var text: String = ""
    /// `info[2][0]`; 0 when the server masks the sender.
    public var uid: Int64 = 0
    /// `info[2][1]`; `"x***"` / `"***"` when masked.
    public var uname: String = ""
    /// True when the server hid the sender: uid 0 or a name ending in `***` (guest sockets since 2023-06-30).
    public var isNameMasked: Bool = false
    /// `info[3]`; nil when `[]`, `null` or absent.
    public var medal: Medal?
    /// `info[7]`: 0 none, 1 总督, 2 提督, 3 舰长.
    public var guardLevel: Int = 0
    /// `info[4][0]` (0 when `info[4]` is `[]`).
    public var userLevel: Int = 0
    /// `info[0][13]` when it is an emoticon object (dm_type 1); nil for text.
    public var emoticon: Emoticon?
    /// `info[0][4]`, unix milliseconds.
    public var sendTimeMs: Int64 = 0
    /// `id_str` from the JSON string `info[0][15].extra`: the best de-duplication key; nil on pre-2023 messages.
    public var idStr: String?
    /// `info[0][1]`: 1 scroll, 4 bottom, 5 top, 7 special.
    public var mode: Int = 1
    /// `info[0][2]`.
    public var fontSize: Int = 25
    /// `info[0][3]`, decimal RGB.
    public var color: Int64 = 0xFFFFFF
    /// `info[0][7]`: CRC32 hex of the uid (stays meaningful when uid is masked).
    public var userHash: String = ""
    /// `info[2][2]` room admin.
    public var isAdmin: Bool = false
    /// `reply_mid` / `reply_uname` from `extra` when this message replies to someone.
    public var replyToUID: Int64?
    public var replyToUname: String?
    /// `info[16][0]` 荣耀等级, when present.
    public var wealthLevel: Int?

    public init() {}
}

/// An emoticon (sticker) danmaku's image.
public struct Emoticon: Sendable, Equatable {
    /// e.g. `upower_[艾尔莎收藏集_mua]`.
    public var unique: String
    public var url: String
    public var width: Int
    public var height: Int

    public init(unique: String, url: String, width: Int, height: Int) {
        self.unique = unique
        self.url = url
        self.width = width
        self.height = height
    }
}

extension Danmaku: EventKindCodec {
    static var kind: EventKind { .danmaku }
    static let commands = ["DANMU_MSG", "DANMU_MSG_MIRROR"]
    var event: DanmuEvent { .danmaku(self) }

    /// The `info` array → `Danmaku`. Indexed defensively: 2018–2021 arrays are short (`info[0]` has 12 items,
    /// no `[15]`), `info[3]` may be `[]` or `null`, `info[4]` may be `[]`, `info[0][13]` is an object or the
    /// string `"{}"`, and `info[0][15].extra` is JSON inside a string.
    static func parse(_ message: EventMessage) -> Danmaku? {
        guard let info = message.root["info"], info.kind == .array else { return nil }
        var danmaku = Danmaku()
        danmaku.cmd = message.cmd
        let meta = info[0]
        danmaku.mode = Int(meta?[1]?.int64Lenient ?? 1)
        danmaku.fontSize = Int(meta?[2]?.int64Lenient ?? 25)
        danmaku.color = meta?[3]?.int64Lenient ?? 0xFFFFFF
        danmaku.sendTimeMs = int(meta?[4])
        danmaku.userHash = string(meta?[7])
        danmaku.text = string(info[1])

        let user = info[2]
        danmaku.uid = int(user?[0])
        danmaku.uname = string(user?[1])
        danmaku.isAdmin = int(user?[2]) != 0
        danmaku.isNameMasked = danmaku.uid == 0 || danmaku.uname.hasSuffix("***")

        danmaku.medal = infoMedal(info[3])
        danmaku.userLevel = Int(int(info[4]?[0]))
        danmaku.guardLevel = Int(int(info[7]))
        if let wealth = info[16]?[0]?.int64Lenient { danmaku.wealthLevel = Int(wealth) }

        // info[0][13]: emoticon options, an object for sticker danmaku, else the string "{}".
        if let options = meta?[13], options.kind == .object, let url = options["url"]?.string, !url.isEmpty {
            danmaku.emoticon = Emoticon(
                unique: string(options["emoticon_unique"]), url: url, width: Int(int(options["width"])),
                height: Int(int(options["height"])))
        }

        // info[0][15].extra: a JSON document inside a string, holding id_str and reply info.
        if let modeInfo = meta?[15], modeInfo.kind == .object, let extraText = modeInfo["extra"]?.string,
            let extra = try? JSONDocument(parsing: Array(extraText.utf8), maxDepth: 16)
        {
            let root = extra.root
            if let id = root["id_str"]?.string, !id.isEmpty { danmaku.idStr = id }
            if let replyUID = root["reply_mid"]?.int64Lenient, replyUID != 0 {
                danmaku.replyToUID = replyUID
                danmaku.replyToUname = root["reply_uname"]?.string
            }
            if danmaku.text.isEmpty, let content = root["content"]?.string { danmaku.text = content }
        }
        if danmaku.text.isEmpty, let text = dmV2Text(message.root["dm_v2"]) { danmaku.text = text }  // DanmakuV2.swift
        return danmaku
    }

    /// `info[3]`: `[level, name, anchor uname, anchor room id, color, special, 0, border, start, end, guard level,
    /// is_lighted, anchor uid]`; nil for `[]`, `null`, or a nameless medal.
    static func infoMedal(_ node: JSONNode?) -> Medal? {
        guard let node, node.kind == .array, node.count >= 2, let name = node[1]?.string, !name.isEmpty else {
            return nil
        }
        return Medal(
            name: name, level: Int(int(node[0])), anchorRoomID: int(node[3]), anchorUID: int(node[12]),
            anchorName: string(node[2]), guardLevel: Int(int(node[10])),
            isLighted: (node[11]?.int64Lenient ?? 1) != 0, color: int(node[4]))
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "text"); w.string(text)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "masked"); w.bool(isNameMasked)
        w.key(static: "id_str"); w.optional(idStr)
        w.key(static: "medal"); w.optional(medal)
        w.key(static: "guard_level"); w.int(guardLevel)
        w.key(static: "user_level"); w.int(userLevel)
        w.key(static: "send_time"); w.int(sendTimeMs)
        w.key(static: "emoticon")
        if let emoticon {
            w.beginObject()
            w.key(static: "unique"); w.string(emoticon.unique)
            w.key(static: "url"); w.string(emoticon.url)
            w.key(static: "width"); w.int(emoticon.width)
            w.key(static: "height"); w.int(emoticon.height)
            w.endObject()
        } else {
            w.null()
        }
        w.key(static: "mode"); w.int(mode)
        w.key(static: "color"); w.int(color)
        w.key(static: "user_hash"); w.string(userHash)
        w.key(static: "is_admin"); w.bool(isAdmin)
        w.key(static: "reply_uid"); w.optional(replyToUID)
        w.key(static: "reply_uname"); w.optional(replyToUname)
        w.key(static: "wealth_level"); w.optional(wealthLevel.map(Int64.init))
    }

    var textLine: String {
        let guardMark = guardName(guardLevel).map { "<\($0)> " } ?? ""
        let masked = isNameMasked ? " (masked)" : ""
        let sticker = emoticon != nil ? " [sticker]" : ""
        return guardMark + medalTag(medal) + clean(uname) + masked + ": " + clean(text) + sticker
    }
}
