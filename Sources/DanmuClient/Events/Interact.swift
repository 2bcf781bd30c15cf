import DanmuCodecs

/// `INTERACT_WORD` (JSON) / `INTERACT_WORD_V2` (protobuf in `data.pb`): enter, follow, share… (docs/protocol.md §13.4).
public struct Interact: Sendable, Equatable {
    /// What the user did, from `msg_type`.
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        case enter, follow, share, specialFollow, mutualFollow, like
        case other(Int64)

        public init(msgType: Int64) {
            switch msgType {
            case 1: self = .enter
            case 2: self = .follow
            case 3: self = .share
            case 4: self = .specialFollow
            case 5: self = .mutualFollow
            case 6: self = .like
            default: self = .other(msgType)
            }
        }

        /// Stable lowercase names for JSON Lines.
        public var description: String {
            switch self {
            case .enter: return "enter"
            case .follow: return "follow"
            case .share: return "share"
            case .specialFollow: return "special_follow"
            case .mutualFollow: return "mutual_follow"
            case .like: return "like"
            case .other(let n): return "other_\(n)"
            }
        }
    }

    public var cmd: String = "INTERACT_WORD"
    public var action: Action = .enter
    public var msgType: Int64 = 1
    public var uid: Int64 = 0
    public var uname: String = ""
    public var isNameMasked: Bool = false
    public var medal: Medal?
    /// Unix seconds.
    public var timestamp: Int64 = 0
    public var roomID: Int64 = 0

    public init() {}
}

/// `LIKE_INFO_V3_CLICK`: a user liked the stream.
public struct LikeClick: Sendable, Equatable {
    public var uid: Int64 = 0
    public var uname: String = ""
    public var likeText: String = ""
    public var medal: Medal?
    public init() {}
}

extension Interact: EventKindCodec {
    static var kind: EventKind { .interact }
    static let commands = ["INTERACT_WORD", "INTERACT_WORD_V2"]
    var event: DanmuEvent { .interact(self) }

    static func parse(_ message: EventMessage) -> Interact? {
        guard let data = message.data else { return nil }
        if message.cmd == "INTERACT_WORD_V2" { return parseProtobuf(data) }
        var interact = Interact()
        interact.msgType = int(data["msg_type"])
        interact.action = Action(msgType: interact.msgType)
        interact.uid = int(data["uid"])
        interact.uname = string(data["uname"])
        interact.isNameMasked = interact.uid == 0 || interact.uname.hasSuffix("***")
        interact.medal = fansMedal(data["fans_medal"])
        interact.timestamp = int(data["timestamp"])
        interact.roomID = int(data["roomid"])
        return interact
    }

    /// `INTERACT_WORD_V2` in `data.pb`: 1 uid · 2 uname · 5 msg_type · 6 room_id · 7 timestamp (s) · 9 fans_medal
    /// · 22 uinfo. nil when the payload does not decode.
    static func parseProtobuf(_ data: JSONNode) -> Interact? {
        typealias PB = ProtobufPayload
        guard let fields = PB.decode(data["pb"]) else { return nil }
        var interact = Interact()
        interact.cmd = "INTERACT_WORD_V2"
        for field in fields {
            switch field.number {
            case 1: interact.uid = PB.int(field)
            case 2: interact.uname = PB.text(field)
            case 5: interact.msgType = PB.int(field)
            case 6: interact.roomID = PB.int(field)
            case 7: interact.timestamp = PB.int(field)
            case 9:
                interact.medal = PB.medal(
                    field, name: 3, level: 2, roomID: 12, targetID: 1, lighted: 8, guardLevel: 9)
            default: break
            }
        }
        interact.action = Action(msgType: interact.msgType)
        interact.isNameMasked = interact.uid == 0 || interact.uname.hasSuffix("***")
        return interact
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "action"); w.string(action.description)
        w.key(static: "msg_type"); w.int(msgType)
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "masked"); w.bool(isNameMasked)
        w.key(static: "medal"); w.optional(medal)
        w.key(static: "timestamp"); w.int(timestamp)
        w.key(static: "roomid"); w.int(roomID)
    }

    var textLine: String { "\(medalTag(medal))\(clean(uname))\(isNameMasked ? " (masked)" : "") \(action)" }
}

extension LikeClick: EventKindCodec {
    static var kind: EventKind { .likeClick }
    static let commands = ["LIKE_INFO_V3_CLICK"]
    var event: DanmuEvent { .likeClick(self) }
    var cmd: String { "LIKE_INFO_V3_CLICK" }

    static func parse(_ message: EventMessage) -> LikeClick? {
        guard let data = message.data else { return nil }
        var like = LikeClick()
        like.uid = int(data["uid"])
        like.uname = string(data["uname"])
        like.likeText = string(data["like_text"])
        like.medal = fansMedal(data["fans_medal"])
        return like
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "uid"); w.int(uid)
        w.key(static: "uname"); w.string(uname)
        w.key(static: "like_text"); w.string(likeText)
        w.key(static: "medal"); w.optional(medal)
    }

    var textLine: String { "\(clean(uname)) \(clean(likeText))" }
}
