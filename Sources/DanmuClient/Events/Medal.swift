import DanmuCodecs

/// A fan medal (粉丝勋章): bound to one anchor. Shown on danmaku, gifts, combos, Super Chats, interactions and
/// likes; its JSON Lines object and its text tag are written here for all of them.
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

    public init(
        name: String, level: Int, anchorRoomID: Int64 = 0, anchorUID: Int64 = 0, anchorName: String = "",
        guardLevel: Int = 0, isLighted: Bool = true, color: Int64 = 0
    ) {
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

extension EventKindCodec {
    /// A `medal_info` / `fans_medal` object; nil when absent or empty (level 0 and no name).
    static func fansMedal(_ node: JSONNode?) -> Medal? {
        guard let node, node.kind == .object else { return nil }
        let name = string(node["medal_name"])
        let level = Int(int(node["medal_level"]))
        if name.isEmpty && level == 0 { return nil }
        return Medal(
            name: name, level: level, anchorRoomID: int(node["anchor_roomid"]), anchorUID: int(node["target_id"]),
            anchorName: string(node["anchor_uname"]), guardLevel: Int(int(node["guard_level"])),
            isLighted: (node["is_lighted"]?.int64Lenient ?? 0) != 0, color: medalColor(node["medal_color"]))
    }

    /// `medal_color`: a number (`6067854`) or a CSS hex string (`"#1a544b"`); 0 when neither.
    /// A JSON medal without `is_lighted` is not lighted (older and partial objects omit it for dimmed medals).
    static func medalColor(_ node: JSONNode?) -> Int64 {
        guard let node else { return 0 }
        if let text = node.string { return medalColor(hex: text) }
        return int(node)
    }

    /// `medal_color` sent as a string: CSS hex with or without `#`; 0 when it is not hex (shared with the
    /// on-demand readers, so both paths read it by one rule).
    static func medalColor(hex text: String) -> Int64 {
        var hex = Substring(text)
        if hex.hasPrefix("#") { hex = hex.dropFirst() }
        return hex.isEmpty ? 0 : Int64(hex, radix: 16) ?? 0
    }
}

extension JSONWriter {
    /// The `medal` field's value: an object, or null without a medal (`color` is not in the schema).
    mutating func optional(_ medal: Medal?) {
        guard let medal else { return null() }
        beginObject()
        key(static: "name"); string(medal.name)
        key(static: "level"); int(medal.level)
        key(static: "anchor_room_id"); int(medal.anchorRoomID)
        key(static: "anchor_uid"); int(medal.anchorUID)
        key(static: "anchor_name"); string(medal.anchorName)
        key(static: "guard_level"); int(medal.guardLevel)
        key(static: "lighted"); bool(medal.isLighted)
        endObject()
    }
}

extension EventPayload {
    /// `[name level] ` before a user name in a text line; empty without a medal.
    func medalTag(_ medal: Medal?) -> String {
        guard let medal else { return "" }
        return "[\(clean(medal.name)) \(medal.level)] "
    }
}
