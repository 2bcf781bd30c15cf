import DanmuCodecs

// Moderation: a danmaku taken back, a viewer muted, the room's chat restricted by user level.

/// `RECALL_DANMU_MSG`: a danmaku was recalled (removed after it was shown).
public struct RecallDanmaku: Sendable, Equatable {
    public var recallType: Int64 = 0
    /// The recalled danmaku (its id).
    public var targetID: Int64 = 0
    public init() {}
}

/// `ROOM_BLOCK_MSG`: a viewer was muted in the room (`operator` 1 a room admin, 2 the anchor).
public struct RoomBlock: Sendable, Equatable {
    public var uid: Int64 = 0
    public var uname: String = ""
    public var operatorType: Int64 = 0
    public init() {}
}

/// `ROOM_SILENT_ON` / `ROOM_SILENT_OFF`: chat restricted to users above a level, fan-medal level or rank.
public struct RoomSilent: Sendable, Equatable {
    public var isOn: Bool = false
    /// `member` (user level), `medal`, `rank`; "" when off.
    public var type: String = ""
    public var level: Int64 = 0
    /// Unix seconds when it ends (-1 until lifted), 0 when off.
    public var second: Int64 = 0
    public init() {}
}

extension RecallDanmaku: EventKindCodec {
    static var kind: EventKind { .recallDanmaku }
    static let commands = ["RECALL_DANMU_MSG"]
    var event: DanmuEvent { .recallDanmaku(self) }
    var cmd: String { "RECALL_DANMU_MSG" }

    static func parse(_ message: EventMessage) -> RecallDanmaku? {
        guard let data = message.data else { return nil }
        var recall = RecallDanmaku()
        recall.recallType = int(data["recall_type"])
        recall.targetID = int(data["target_id"])
        return recall
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "recall_type"); w.int(recallType)
        w.key(static: "target_id"); w.int(targetID)
    }

    var textLine: String { "danmaku \(targetID) recalled" }
}

extension RoomBlock: EventKindCodec {
    static var kind: EventKind { .roomBlock }
    static let commands = ["ROOM_BLOCK_MSG"]
    var event: DanmuEvent { .roomBlock(self) }
    var cmd: String { "ROOM_BLOCK_MSG" }

    /// `data` when present, else the top-level `uid` (a string) and `uname`; never nil.
    static func parse(_ message: EventMessage) -> RoomBlock? {
        let root = message.root, data = message.data
        var block = RoomBlock()
        block.uid = int(data?["uid"] ?? root["uid"])
        block.uname = string(data?["uname"] ?? root["uname"])
        block.operatorType = int(data?["operator"])
        return block
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "operator"); w.int(operatorType)
    }

    var textLine: String { "\(clean(uname)) muted" + (operatorType == 2 ? " by the anchor" : "") }
}

extension RoomSilent: EventKindCodec {
    static var kind: EventKind { .roomSilent }
    static let commands = ["ROOM_SILENT_ON", "ROOM_SILENT_OFF"]
    var event: DanmuEvent { .roomSilent(self) }
    var cmd: String { isOn ? "ROOM_SILENT_ON" : "ROOM_SILENT_OFF" }

    static func parse(_ message: EventMessage) -> RoomSilent? {
        let data = message.data
        var silent = RoomSilent()
        silent.isOn = message.cmd == "ROOM_SILENT_ON"
        silent.type = string(data?["type"])
        silent.level = int(data?["level"])
        silent.second = int(data?["second"])
        return silent
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "on"); w.bool(isOn)
        w.key(static: "type"); w.string(type)
        w.key(static: "level"); w.int(level)
        w.key(static: "second"); w.int(second)
    }

    var textLine: String { isOn ? "chat limited to \(clean(type)) level ≥ \(level)" : "chat limit lifted" }
}
