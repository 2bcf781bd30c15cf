import DanmuCodecs

/// `SUPER_CHAT_MESSAGE`, docs/protocol.md §13.2. `SUPER_CHAT_MESSAGE_JPN` is the same Super Chat again (same id,
/// ids as strings, plus a Japanese translation that `SUPER_CHAT_MESSAGE` also carries as `message_trans`): it is
/// dropped as a duplicate — no event, not `.unknown` — so each Super Chat is one `super_chat` event.
public struct SuperChat: Sendable, Equatable {
    public var cmd: String = "SUPER_CHAT_MESSAGE"
    /// The SC id that `SUPER_CHAT_MESSAGE_DELETE` refers to.
    public var id: Int64 = 0
    public var uid: Int64 = 0
    public var uname: String = ""
    /// CNY, integer yuan.
    public var price: Int64 = 0
    public var message: String = ""
    /// Translated text when present (`message_trans` / `message_jpn`).
    public var messageTranslated: String?
    /// Unix seconds.
    public var startTime: Int64 = 0
    public var endTime: Int64 = 0
    /// Display seconds (`time`).
    public var duration: Int64 = 0
    public var medal: Medal?
    public var guardLevel: Int = 0
    public var userLevel: Int = 0

    public init() {}
}

/// `SUPER_CHAT_MESSAGE_DELETE`: removal of Super Chats by id.
public struct SuperChatDelete: Sendable, Equatable {
    public var ids: [Int64]
    public init(ids: [Int64]) { self.ids = ids }
}

extension SuperChat: EventKindCodec {
    static var kind: EventKind { .superChat }
    static let commands = ["SUPER_CHAT_MESSAGE", "SUPER_CHAT_MESSAGE_JPN"]
    var event: DanmuEvent { .superChat(self) }

    /// `SUPER_CHAT_MESSAGE_JPN` is claimed (so it is not `.unknown`) but yields no event: see `SuperChat`.
    static func parse(_ message: EventMessage, into events: inout [DanmuEvent]) -> Bool {
        if message.cmd == "SUPER_CHAT_MESSAGE_JPN" { return true }
        guard let sc = parse(message) else { return false }
        events.append(.superChat(sc))
        return true
    }

    static func parse(_ message: EventMessage) -> SuperChat? {
        guard let data = message.data else { return nil }
        var sc = SuperChat()
        sc.cmd = message.cmd
        sc.id = int(data["id"])
        sc.uid = int(data["uid"])
        let user = data["user_info"]
        sc.uname = string(user?["uname"])
        sc.price = int(data["price"])
        sc.message = string(data["message"])
        let translated = data["message_trans"]?.string ?? data["message_jpn"]?.string ?? ""
        sc.messageTranslated = translated.isEmpty ? nil : translated
        sc.startTime = int(data["start_time"])
        sc.endTime = int(data["end_time"])
        sc.duration = int(data["time"])
        sc.medal = fansMedal(data["medal_info"])
        sc.guardLevel = Int(int(user?["guard_level"]))
        sc.userLevel = Int(int(user?["user_level"]))
        return sc
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "id"); w.int(id)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "price"); w.int(price)
        w.key(static: "message"); w.string(message)
        w.key(static: "message_translated"); w.optional(messageTranslated)
        w.key(static: "start_time"); w.int(startTime)
        w.key(static: "end_time"); w.int(endTime)
        w.key(static: "duration"); w.int(duration)
        w.key(static: "medal"); w.optional(medal)
        w.key(static: "guard_level"); w.int(guardLevel)
        w.key(static: "user_level"); w.int(userLevel)
    }

    var textLine: String { "¥\(price) \(medalTag(medal))\(clean(uname)): \(clean(message))" }
}

extension SuperChatDelete: EventKindCodec {
    static var kind: EventKind { .superChatDelete }
    static let commands = ["SUPER_CHAT_MESSAGE_DELETE"]
    var event: DanmuEvent { .superChatDelete(self) }
    var cmd: String { "SUPER_CHAT_MESSAGE_DELETE" }

    static func parse(_ message: EventMessage) -> SuperChatDelete? {
        message.data.map { SuperChatDelete(ids: ints($0["ids"])) }
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "ids")
        w.beginArray()
        for id in ids { w.int(id) }
        w.endArray()
    }

    var textLine: String { "removed " + ids.map(String.init).joined(separator: ",") }
}
