/// A chat message (`DANMU_MSG`, also `DANMU_MSG_MIRROR`), from the `info` array (PROTOCOL.md §12).
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

/// A fan medal (粉丝勋章): bound to one anchor.
public struct Medal: Sendable, Equatable {
    public var name: String
    public var level: Int
    /// The anchor's (long) room id.
    public var anchorRoomID: Int64
    public var anchorUID: Int64
    public var anchorName: String
    public var guardLevel: Int
    public var isLighted: Bool
    public var color: Int64

    public init(name: String, level: Int, anchorRoomID: Int64 = 0, anchorUID: Int64 = 0, anchorName: String = "",
                guardLevel: Int = 0, isLighted: Bool = true, color: Int64 = 0) {
        self.name = name
        self.level = level
        self.anchorRoomID = anchorRoomID
        self.anchorUID = anchorUID
        self.anchorName = anchorName
        self.guardLevel = guardLevel
        self.isLighted = isLighted
        self.color = color
    }
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
