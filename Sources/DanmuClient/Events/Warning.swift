import DanmuCodecs

// What the server or an administrator tells the room: warnings and cut-offs, the guest-socket notice, and
// the op 8 auth reply.

/// `WARNING`, `CUT_OFF`, `CUT_OFF_V2`: an administrator warned the anchor or cut the stream.
public struct Warning: Sendable, Equatable {
    public var cmd: String = "WARNING"
    public var message: String = ""
    public var roomID: Int64 = 0
    public var isCutOff: Bool { cmd.hasPrefix("CUT_OFF") }
    public init() {}
}

/// `LOG_IN_NOTICE`: names are masked on this socket until it authenticates with a logged-in uid.
public struct LoginNotice: Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}

extension Warning: EventKindCodec {
    static var kind: EventKind { .warning }
    static let commands = ["WARNING", "CUT_OFF", "CUT_OFF_V2"]
    var event: DanmuEvent { .warning(self) }

    /// Top level or `data` (`msg` or `message`, `roomid` or `room_id`); never nil.
    static func parse(_ message: EventMessage) -> Warning? {
        let root = message.root, data = message.data
        var warning = Warning()
        warning.cmd = message.cmd
        warning.message = string(root["msg"] ?? data?["msg"] ?? data?["message"])
        warning.roomID = int(root["roomid"] ?? data?["roomid"] ?? data?["room_id"])
        return warning
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "message"); w.string(message)
        w.key(static: "roomid"); w.int(roomID)
        w.key(static: "cut_off"); w.bool(isCutOff)
    }

    var textLine: String { "\(cmd): \(clean(message))" }
}

extension LoginNotice: EventKindCodec {
    static var kind: EventKind { .loginNotice }
    static let commands = ["LOG_IN_NOTICE"]
    var event: DanmuEvent { .loginNotice(self) }
    var cmd: String { "LOG_IN_NOTICE" }

    /// Never nil: a notice without `data.notice_msg` still says the names are masked.
    static func parse(_ message: EventMessage) -> LoginNotice? {
        LoginNotice(message: string(message.data?["notice_msg"]))
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "message"); w.string(message)
    }

    var textLine: String { clean(message) }
}

/// `.authReply`: the op 8 reply's `code` (0 = accepted), decoded by `MessageDecoder`, not from a cmd;
/// `DanmuEvent.authReply` carries the bare code.
struct AuthReplyPayload: EventPayload {
    static var kind: EventKind { .authReply }
    let code: Int
    var cmd: String { "AUTH_REPLY" }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "code"); w.int(code)
    }

    var textLine: String { "auth reply code \(code)" }
}
