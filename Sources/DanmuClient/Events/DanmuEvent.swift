/// One typed thing that happened in a room: decoded from an op 5 JSON message, an op 3 heartbeat reply
/// or an op 8 auth reply. Unknown cmds are never dropped: they arrive as `.unknown` with the raw JSON.
///
/// Each kind lives in its own file under `Events/` (its model, cmds, parse, JSON Lines fields and text line,
/// through `EventKindCodec`). Adding a kind is that file plus, here, its case in `DanmuEvent` and in
/// `EventKind` and one line in each of the two switches below; the compiler points at both.
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
    case onlineRank(OnlineRank)
    case entryEffect(EntryEffect)
    case notice(Notice)
    case commonNotice(CommonNotice)
    case hotRoomNotify(HotRoomNotify)
    case widgetBanner(WidgetBanner)
    case stopLiveRoomList(StopLiveRoomList)
    case superChatEntrance(SuperChatEntrance)
    case dmInteraction(DMInteraction)
    case recallDanmaku(RecallDanmaku)
    case roomBlock(RoomBlock)
    case roomSilent(RoomSilent)
    case redPocket(RedPocket)
    case pkBattle(PKBattle)
    case anchorLot(AnchorLot)
    /// op 3 heartbeat reply: legacy "popularity" (人气值).
    case popularity(UInt32)
    /// op 8 auth reply `code` (0 = accepted).
    case authReply(code: Int)
    /// Any cmd without a typed model; `raw` is the whole message object's JSON text, `cmd` suffix-stripped.
    case unknown(cmd: String, raw: [UInt8])

    /// Stable lowercase name used by the CLI filter and the JSON Lines `kind` field.
    public var kind: EventKind { visitPayload(PayloadKind.self) }

    /// The message's `cmd` with any `:…` suffix stripped; pseudo-cmds `HEARTBEAT_REPLY` / `AUTH_REPLY` for ops 3/8.
    public var cmd: String { visitPayload(PayloadCommand.self) }

    /// Hands the payload, as its concrete type, to `Visitor`: the one switch over the cases. `kind`, `cmd`, the
    /// JSON Lines fields and the text line are all visitors, so they need no switch of their own. Generic, not
    /// `any EventPayload`: each visitor is specialized into a plain switch, with no existential box (a
    /// `Danmaku` is far larger than an existential's inline buffer, so boxing it would allocate per event).
    // Always inlined: then writeJSONLine runs exactly the instructions the old per-kind switch did (callgrind,
    // bench-output, 100k danmaku); as a call it cost ~20 more per line.
    @inline(__always)
    func visitPayload<Visitor: EventPayloadVisitor>(_: Visitor.Type, _ state: inout Visitor.State) -> Visitor.Result {
        switch self {
        case .danmaku(let payload): return Visitor.visit(payload, &state)
        case .gift(let payload): return Visitor.visit(payload, &state)
        case .combo(let payload): return Visitor.visit(payload, &state)
        case .superChat(let payload): return Visitor.visit(payload, &state)
        case .superChatDelete(let payload): return Visitor.visit(payload, &state)
        case .guardBuy(let payload): return Visitor.visit(payload, &state)
        case .userToast(let payload): return Visitor.visit(payload, &state)
        case .interact(let payload): return Visitor.visit(payload, &state)
        case .likeClick(let payload): return Visitor.visit(payload, &state)
        case .likeUpdate(let payload): return Visitor.visit(payload, &state)
        case .watchedChange(let payload): return Visitor.visit(payload, &state)
        case .onlineRankCount(let payload): return Visitor.visit(payload, &state)
        case .live(let payload): return Visitor.visit(payload, &state)
        case .preparing(let payload): return Visitor.visit(payload, &state)
        case .roomChange(let payload): return Visitor.visit(payload, &state)
        case .warning(let payload): return Visitor.visit(payload, &state)
        case .loginNotice(let payload): return Visitor.visit(payload, &state)
        case .onlineRank(let payload): return Visitor.visit(payload, &state)
        case .entryEffect(let payload): return Visitor.visit(payload, &state)
        case .notice(let payload): return Visitor.visit(payload, &state)
        case .commonNotice(let payload): return Visitor.visit(payload, &state)
        case .hotRoomNotify(let payload): return Visitor.visit(payload, &state)
        case .widgetBanner(let payload): return Visitor.visit(payload, &state)
        case .stopLiveRoomList(let payload): return Visitor.visit(payload, &state)
        case .superChatEntrance(let payload): return Visitor.visit(payload, &state)
        case .dmInteraction(let payload): return Visitor.visit(payload, &state)
        case .recallDanmaku(let payload): return Visitor.visit(payload, &state)
        case .roomBlock(let payload): return Visitor.visit(payload, &state)
        case .roomSilent(let payload): return Visitor.visit(payload, &state)
        case .redPocket(let payload): return Visitor.visit(payload, &state)
        case .pkBattle(let payload): return Visitor.visit(payload, &state)
        case .anchorLot(let payload): return Visitor.visit(payload, &state)
        case .popularity(let value): return Visitor.visit(PopularityPayload(value: value), &state)
        case .authReply(let code): return Visitor.visit(AuthReplyPayload(code: code), &state)
        case .unknown(let cmd, let raw): return Visitor.visit(UnknownPayload(cmd: cmd, raw: raw), &state)
        }
    }

    /// `visitPayload` for visitors without state.
    @inline(__always)
    func visitPayload<Visitor: EventPayloadVisitor>(_ visitor: Visitor.Type) -> Visitor.Result
    where Visitor.State == Void {
        var none: Void = ()
        return visitPayload(visitor, &none)
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
    case onlineRank = "online_rank"
    case entryEffect = "entry_effect"
    case notice
    case commonNotice = "common_notice"
    case hotRoomNotify = "hot_room_notify"
    case widgetBanner = "widget_banner"
    case stopLiveRoomList = "stop_live_room_list"
    case superChatEntrance = "super_chat_entrance"
    case dmInteraction = "dm_interaction"
    case recallDanmaku = "recall_danmaku"
    case roomBlock = "room_block"
    case roomSilent = "room_silent"
    case redPocket = "red_pocket"
    case pkBattle = "pk_battle"
    case anchorLot = "anchor_lot"
    case popularity
    case authReply = "auth_reply"
    case unknown

    /// The codec that parses this kind from op 5 messages; nil for the kinds that come from elsewhere (op 3, op 8,
    /// and `unknown`, the parser's fallback). `EventParser` builds its cmd table from these.
    var codec: (any EventKindCodec.Type)? {
        switch self {
        case .danmaku: return Danmaku.self
        case .gift: return Gift.self
        case .combo: return ComboSend.self
        case .superChat: return SuperChat.self
        case .superChatDelete: return SuperChatDelete.self
        case .guardBuy: return GuardBuy.self
        case .userToast: return UserToast.self
        case .interact: return Interact.self
        case .likeClick: return LikeClick.self
        case .likeUpdate: return LikeUpdate.self
        case .watchedChange: return WatchedChange.self
        case .onlineRankCount: return OnlineRankCount.self
        case .live: return Live.self
        case .preparing: return Preparing.self
        case .roomChange: return RoomChange.self
        case .warning: return Warning.self
        case .loginNotice: return LoginNotice.self
        case .onlineRank: return OnlineRank.self
        case .entryEffect: return EntryEffect.self
        case .notice: return Notice.self
        case .commonNotice: return CommonNotice.self
        case .hotRoomNotify: return HotRoomNotify.self
        case .widgetBanner: return WidgetBanner.self
        case .stopLiveRoomList: return StopLiveRoomList.self
        case .superChatEntrance: return SuperChatEntrance.self
        case .dmInteraction: return DMInteraction.self
        case .recallDanmaku: return RecallDanmaku.self
        case .roomBlock: return RoomBlock.self
        case .roomSilent: return RoomSilent.self
        case .redPocket: return RedPocket.self
        case .pkBattle: return PKBattle.self
        case .anchorLot: return AnchorLot.self
        case .popularity, .authReply, .unknown: return nil
        }
    }
}

/// `DanmuEvent.kind` as a visitor.
private enum PayloadKind: EventPayloadVisitor {
    static func visit<Payload: EventPayload>(_ payload: Payload, _ state: inout Void) -> EventKind { Payload.kind }
}

/// `DanmuEvent.cmd` as a visitor.
private enum PayloadCommand: EventPayloadVisitor {
    static func visit<Payload: EventPayload>(_ payload: Payload, _ state: inout Void) -> String { payload.cmd }
}
