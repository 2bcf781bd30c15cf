/// One typed thing that happened in a room: decoded from an op 5 JSON message, an op 3 heartbeat reply
/// or an op 8 auth reply. Unknown cmds are never dropped: they arrive as `.unknown` with the raw JSON.
public enum DanmuEvent: Sendable, Equatable {
    case danmaku(Danmaku)
    case gift(Gift)
    case combo(ComboSend)
    case superChat(SuperChat)
    case superChatDelete(SuperChatDelete)
    case guardBuy(GuardBuy)
    case userToast(UserToast)
    case interact(Interact)
    case likeClick(LikeClick)
    case likeUpdate(LikeUpdate)
    case watchedChange(WatchedChange)
    case onlineRankCount(OnlineRankCount)
    case live(Live)
    case preparing(Preparing)
    case roomChange(RoomChange)
    /// `WARNING`, `CUT_OFF`, `CUT_OFF_V2`.
    case warning(Warning)
    /// `LOG_IN_NOTICE`: the server is masking names for this (guest) socket.
    case loginNotice(LoginNotice)
    /// op 3 heartbeat reply: legacy "popularity" (人气值).
    case popularity(UInt32)
    /// op 8 auth reply `code` (0 = accepted).
    case authReply(code: Int)
    /// Any cmd without a typed model; `raw` is the whole message object's JSON text, `cmd` suffix-stripped.
    case unknown(cmd: String, raw: [UInt8])

    /// Stable lowercase name used by the CLI filter and the JSON Lines `kind` field.
    public var kind: EventKind {
        switch self {
        case .danmaku: return .danmaku
        case .gift: return .gift
        case .combo: return .combo
        case .superChat: return .superChat
        case .superChatDelete: return .superChatDelete
        case .guardBuy: return .guardBuy
        case .userToast: return .userToast
        case .interact: return .interact
        case .likeClick: return .likeClick
        case .likeUpdate: return .likeUpdate
        case .watchedChange: return .watchedChange
        case .onlineRankCount: return .onlineRankCount
        case .live: return .live
        case .preparing: return .preparing
        case .roomChange: return .roomChange
        case .warning: return .warning
        case .loginNotice: return .loginNotice
        case .popularity: return .popularity
        case .authReply: return .authReply
        case .unknown: return .unknown
        }
    }

    /// The message's `cmd` with any `:…` suffix stripped; pseudo-cmds `HEARTBEAT_REPLY` / `AUTH_REPLY` for ops 3/8.
    public var cmd: String {
        switch self {
        case .danmaku(let e): return e.cmd
        case .gift(let e): return e.cmd
        case .combo: return "COMBO_SEND"
        case .superChat(let e): return e.cmd
        case .superChatDelete: return "SUPER_CHAT_MESSAGE_DELETE"
        case .guardBuy: return "GUARD_BUY"
        case .userToast(let e): return e.cmd
        case .interact(let e): return e.cmd
        case .likeClick: return "LIKE_INFO_V3_CLICK"
        case .likeUpdate: return "LIKE_INFO_V3_UPDATE"
        case .watchedChange: return "WATCHED_CHANGE"
        case .onlineRankCount: return "ONLINE_RANK_COUNT"
        case .live: return "LIVE"
        case .preparing: return "PREPARING"
        case .roomChange: return "ROOM_CHANGE"
        case .warning(let e): return e.cmd
        case .loginNotice: return "LOG_IN_NOTICE"
        case .popularity: return "HEARTBEAT_REPLY"
        case .authReply: return "AUTH_REPLY"
        case .unknown(let cmd, _): return cmd
        }
    }
}

/// The kind of an event: a closed set of stable names.
public enum EventKind: String, Sendable, CaseIterable, Hashable {
    case danmaku, gift, combo
    case superChat = "super_chat"
    case superChatDelete = "super_chat_delete"
    case guardBuy = "guard_buy"
    case userToast = "user_toast"
    case interact
    case likeClick = "like_click"
    case likeUpdate = "like_update"
    case watchedChange = "watched_change"
    case onlineRankCount = "online_rank_count"
    case live, preparing
    case roomChange = "room_change"
    case warning
    case loginNotice = "login_notice"
    case popularity
    case authReply = "auth_reply"
    case unknown
}
