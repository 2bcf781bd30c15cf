import DanmuCodecs

/// `DM_INTERACTION`: the chat's interaction summary — a vote (`type` 101), a repeated-danmaku combo (102),
/// "N people followed / sent gifts / shared / liked" (103–106). `data.data` is a JSON string whose shape
/// depends on `type`; it is embedded as parsed JSON (`data`), not as a string.
public struct DMInteraction: Sendable, Equatable {
    public var id: Int64 = 0
    public var type: Int64 = 0
    public var status: Int64 = 0
    /// The inner document's JSON text; nil when `data.data` is absent or not JSON.
    public var data: [UInt8]?
    public init() {}
}

extension DMInteraction: EventKindCodec {
    static var kind: EventKind { .dmInteraction }
    static let commands = ["DM_INTERACTION"]
    var event: DanmuEvent { .dmInteraction(self) }
    var cmd: String { "DM_INTERACTION" }

    static func parse(_ message: EventMessage) -> DMInteraction? {
        guard let outer = message.data else { return nil }
        var interaction = DMInteraction()
        interaction.id = int(outer["id"])
        interaction.type = int(outer["type"])
        interaction.status = int(outer["status"])
        interaction.data = embeddedJSON(outer["data"])
        return interaction
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "id"); w.int(id)
        w.key(static: "type"); w.int(type)
        w.key(static: "status"); w.int(status)
        w.key(static: "data"); w.embedded(data)
    }

    var textLine: String {
        let name: String
        switch type {
        case 101: name = "vote"
        case 102: name = "danmaku combo"
        case 103: name = "follows"
        case 104: name = "gifts"
        case 105: name = "shares"
        case 106: name = "likes"
        default: name = "type \(type)"
        }
        return "\(name) (\(data?.count ?? 0) bytes)"
    }
}
