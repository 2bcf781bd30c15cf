import DanmuCodecs

/// `ENTRY_EFFECT` / `ENTRY_EFFECT_MUST_RECEIVE`: a user's entrance banner (guards, high wealth levels, the anchor
/// entering the own room). The user is in `uinfo` (2023+); `uid` and `copy_writing` (`<%name%> 来了`) are older.
public struct EntryEffect: Sendable, Equatable {
    public var cmd: String = "ENTRY_EFFECT"
    /// The effect's id (the banner style), not the user's.
    public var id: Int64 = 0
    public var uid: Int64 = 0
    /// `uinfo.base.name`; else the name between `<%` and `%>` in `copy_writing`.
    public var uname: String = ""
    public var isNameMasked: Bool = false
    /// The anchor's uid.
    public var targetID: Int64 = 0
    /// Guard level 1–3 (总督/提督/舰长), 0 for none.
    public var privilegeType: Int64 = 0
    public var copyWriting: String = ""
    /// `uinfo.wealth.level` (or `wealthy_info.level`), when given.
    public var wealthLevel: Int64?
    /// Unix nanoseconds.
    public var triggerTime: Int64 = 0
    public init() {}
}

extension EntryEffect: EventKindCodec {
    static var kind: EventKind { .entryEffect }
    static let commands = ["ENTRY_EFFECT", "ENTRY_EFFECT_MUST_RECEIVE"]
    var event: DanmuEvent { .entryEffect(self) }

    static func parse(_ message: EventMessage) -> EntryEffect? {
        guard let data = message.data else { return nil }
        var effect = EntryEffect()
        effect.cmd = message.cmd
        effect.id = int(data["id"])
        let uinfo = data["uinfo"]
        effect.uid = uinfo?["uid"]?.int64Lenient ?? int(data["uid"])
        effect.copyWriting = string(data["copy_writing"])
        effect.uname = uinfo?["base"]?["name"]?.string ?? nameInMarkers(effect.copyWriting)
        effect.isNameMasked = effect.uid == 0 || effect.uname.contains("***")
        effect.targetID = int(data["target_id"])
        effect.privilegeType = int(data["privilege_type"])
        effect.wealthLevel = (uinfo?["wealth"]?["level"] ?? data["wealthy_info"]?["level"])?.int64Lenient
        effect.triggerTime = int(data["trigger_time"])
        return effect
    }

    /// `"<%WYCBat%> 来了"` → `"WYCBat"`; "" without the markers.
    static func nameInMarkers(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4 else { return "" }
        guard let open = (0..<bytes.count - 1).first(where: { bytes[$0] == 0x3C && bytes[$0 + 1] == 0x25 }) else {
            return ""
        }
        let start = open + 2
        guard
            let close = (start..<max(start, bytes.count - 1)).first(where: {
                bytes[$0] == 0x25 && bytes[$0 + 1] == 0x3E
            })
        else { return "" }
        return String(decoding: bytes[start..<close], as: UTF8.self)
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "id"); w.int(id)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "masked"); w.bool(isNameMasked)
        w.key(static: "target_id"); w.int(targetID)
        w.key(static: "privilege_type"); w.int(privilegeType)
        w.key(static: "copy_writing"); w.string(copyWriting)
        w.key(static: "wealth_level"); w.optional(wealthLevel)
        w.key(static: "trigger_time"); w.int(triggerTime)
    }

    var textLine: String {
        let role = guardName(Int(privilegeType)).map { "\($0) " } ?? ""
        return "\(role)\(clean(uname)) entered"
    }
}
