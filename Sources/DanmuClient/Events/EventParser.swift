import DanmuCodecs

/// Turns one op 5 JSON message into typed events (PROTOCOL.md §11–13).
///
/// Tolerances, each from a real breaking change: `cmd` suffixes (`DANMU_MSG:4:0:2:2:2:0`) are stripped at the
/// first `:`; a missing top-level `cmd` is looked up in `msg.cmd`; ids may be numbers or strings; fields that
/// are absent, `null` or of the wrong type read as 0 / "" / nil rather than failing the message. Unknown
/// cmds become `.unknown(cmd, raw)` with the message's own JSON text — never dropped.
///
/// Only text that is not JSON at all (or nests deeper than `maxDepth`) throws; the caller counts it.
public enum EventParser {
    /// Default nesting limit for message JSON (real messages nest ≤ 8).
    public static let maxDepth = 64

    /// Parses one message, appending its events (usually one; a `SEND_GIFT_V2` may hold several).
    public static func parse(message bytes: UnsafeRawBufferPointer, into events: inout [DanmuEvent]) throws(ProtocolError) {
        let document: JSONDocument
        do throws(JSONError) { document = try JSONDocument(parsing: bytes, maxDepth: maxDepth) } catch {
            throw .json(error.description)
        }
        parse(document.root, into: &events)
    }

    /// Parses one message from an array.
    public static func parse(message bytes: [UInt8], into events: inout [DanmuEvent]) throws(ProtocolError) {
        let document: JSONDocument
        do throws(JSONError) { document = try JSONDocument(parsing: bytes, maxDepth: maxDepth) } catch {
            throw .json(error.description)
        }
        parse(document.root, into: &events)
    }

    /// `cmd` with the suffix stripped: `"DANMU_MSG:4:0:2:2:2:0"` → `"DANMU_MSG"`.
    public static func strippedCommand(_ cmd: String) -> String {
        guard let colon = cmd.utf8.firstIndex(of: UInt8(ascii: ":")) else { return cmd }
        return String(cmd[..<colon])
    }

    /// Dispatches a parsed message by cmd.
    public static func parse(_ root: JSONNode, into events: inout [DanmuEvent]) {
        let rawCmd = root["cmd"]?.string ?? root["msg"]?["cmd"]?.string ?? ""
        let cmd = strippedCommand(rawCmd)
        let data = root["data"]
        let event: DanmuEvent?
        switch cmd {
        case "DANMU_MSG", "DANMU_MSG_MIRROR":
            event = root["info"].flatMap { parseDanmaku($0, cmd: cmd) }.map(DanmuEvent.danmaku)
        case "SEND_GIFT":
            event = data.map { .gift(parseGift($0)) }
        case "SEND_GIFT_V2":
            if let gifts = data.flatMap(ProtobufEvents.sendGiftV2), !gifts.isEmpty {
                events.append(contentsOf: gifts.map(DanmuEvent.gift))
                return
            }
            event = nil
        case "COMBO_SEND":
            event = data.map { .combo(parseCombo($0)) }
        case "SUPER_CHAT_MESSAGE", "SUPER_CHAT_MESSAGE_JPN":
            event = data.map { .superChat(parseSuperChat($0, cmd: cmd)) }
        case "SUPER_CHAT_MESSAGE_DELETE":
            event = data.map { node in .superChatDelete(SuperChatDelete(ids: ints(node["ids"]))) }
        case "GUARD_BUY":
            event = data.map { .guardBuy(parseGuardBuy($0)) }
        case "USER_TOAST_MSG", "USER_TOAST_MSG_V2":
            event = data.map { .userToast(parseUserToast($0, cmd: cmd)) }
        case "INTERACT_WORD":
            event = data.map { .interact(parseInteract($0)) }
        case "INTERACT_WORD_V2":
            event = data.flatMap(ProtobufEvents.interactWordV2).map(DanmuEvent.interact)
        case "LIKE_INFO_V3_CLICK":
            event = data.map { node in
                var like = LikeClick()
                like.uid = int(node["uid"])
                like.uname = str(node["uname"])
                like.likeText = str(node["like_text"])
                like.medal = medal(node["fans_medal"])
                return .likeClick(like)
            }
        case "LIKE_INFO_V3_UPDATE":
            event = data.map { .likeUpdate(LikeUpdate(clickCount: int($0["click_count"]))) }
        case "WATCHED_CHANGE":
            event = data.map { node in
                .watchedChange(WatchedChange(num: int(node["num"]), textSmall: str(node["text_small"]),
                                             textLarge: str(node["text_large"])))
            }
        case "ONLINE_RANK_COUNT":
            event = data.map { node in
                .onlineRankCount(OnlineRankCount(count: int(node["count"]), onlineCount: node["online_count"]?.int64Lenient))
            }
        case "LIVE":
            var live = Live()
            live.roomID = int(root["roomid"] ?? data?["roomid"])
            live.liveKey = stringOrNumber(root["live_key"] ?? data?["live_key"])
            live.liveTime = (root["live_time"] ?? data?["live_time"])?.int64Lenient
            live.livePlatform = str(root["live_platform"] ?? data?["live_platform"])
            event = .live(live)
        case "PREPARING":
            var preparing = Preparing()
            preparing.roomID = int(root["roomid"] ?? data?["roomid"])
            preparing.round = (root["round"] ?? data?["round"])?.int64Lenient
            event = .preparing(preparing)
        case "ROOM_CHANGE":
            event = data.map { node in
                var change = RoomChange()
                change.title = str(node["title"])
                change.areaID = int(node["area_id"])
                change.parentAreaID = int(node["parent_area_id"])
                change.areaName = str(node["area_name"])
                change.parentAreaName = str(node["parent_area_name"])
                change.liveKey = stringOrNumber(node["live_key"])
                return .roomChange(change)
            }
        case "WARNING", "CUT_OFF", "CUT_OFF_V2":
            var warning = Warning()
            warning.cmd = cmd
            warning.message = str(root["msg"] ?? data?["msg"] ?? data?["message"])
            warning.roomID = int(root["roomid"] ?? data?["roomid"] ?? data?["room_id"])
            event = .warning(warning)
        case "LOG_IN_NOTICE":
            event = .loginNotice(LoginNotice(message: str(data?["notice_msg"])))
        default:
            event = nil
        }
        events.append(event ?? .unknown(cmd: cmd, raw: Array(root.rawBytes)))
    }

    // MARK: - Field helpers: absent / null / wrong type read as a neutral value.

    @inline(__always) static func int(_ node: JSONNode?) -> Int64 { node?.int64Lenient ?? 0 }
    @inline(__always) static func str(_ node: JSONNode?) -> String { node?.string ?? "" }

    /// A string field that some messages send as a number (`live_key`).
    static func stringOrNumber(_ node: JSONNode?) -> String {
        guard let node else { return "" }
        if let s = node.string { return s }
        if node.kind == .number { return String(decoding: node.rawBytes, as: UTF8.self) }
        return ""
    }

    static func ints(_ node: JSONNode?) -> [Int64] {
        guard let node, node.kind == .array else { return [] }
        return node.elements.compactMap { $0.int64Lenient }
    }

    /// A `medal_info` / `fans_medal` object; nil when absent or empty (level 0 and no name).
    static func medal(_ node: JSONNode?) -> Medal? {
        guard let node, node.kind == .object else { return nil }
        let name = str(node["medal_name"])
        let level = Int(int(node["medal_level"]))
        if name.isEmpty && level == 0 { return nil }
        return Medal(name: name, level: level, anchorRoomID: int(node["anchor_roomid"]),
                     anchorUID: int(node["target_id"]), anchorName: str(node["anchor_uname"]),
                     guardLevel: Int(int(node["guard_level"])), isLighted: (node["is_lighted"]?.int64Lenient ?? 1) != 0,
                     color: int(node["medal_color"]))
    }
}
