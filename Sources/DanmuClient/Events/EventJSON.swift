import DanmuCodecs

/// Appends one JSON Lines record for `event` (object + `\n`) to `writer` — the stable output schema.
///
/// Every line: `room` (number, long room id), `cmd` (suffix stripped), `kind` (`EventKind` raw value),
/// `received_at` (**unix milliseconds, a number**). Then the kind's fields (snake_case; absent optional
/// values are written as `null` so every line of a kind has the same keys). Unknown cmds carry `raw`: the
/// original message object embedded as JSON (not a string). See readme-parts/protocol.md for examples.
///
/// - Parameter receivedAt: unix **nanoseconds** (as `RoomEvent.receivedAt`); written as milliseconds.
public func writeJSONLine(room: Int64, receivedAt: Int64, event: DanmuEvent, into writer: inout JSONWriter) {
    // JSONWriter would put a ',' between two top-level values; JSON Lines wants none.
    writer.beginTopLevelValue()
    writer.beginObject()
    writer.key(static: "room"); writer.int(room)
    writer.key(static: "cmd"); writer.string(event.cmd)
    writer.key(static: "kind"); writer.string(event.kind.rawValue)
    writer.key(static: "received_at"); writer.int(receivedAt / 1_000_000)
    EventJSON.writeFields(of: event, into: &writer)
    writer.endObject()
    writer.bytes.append(UInt8(ascii: "\n"))
}

/// Field writers per kind.
enum EventJSON {
    static func writeFields(of event: DanmuEvent, into w: inout JSONWriter) {
        switch event {
        case .danmaku(let d):
            w.key(static: "text"); w.string(d.text)
            w.key(static: "uid"); w.int(d.uid)
            w.key(static: "uname"); w.string(d.uname)
            w.key(static: "masked"); w.bool(d.isNameMasked)
            w.key(static: "id_str"); optional(d.idStr, &w)
            w.key(static: "medal"); medal(d.medal, &w)
            w.key(static: "guard_level"); w.int(d.guardLevel)
            w.key(static: "user_level"); w.int(d.userLevel)
            w.key(static: "send_time"); w.int(d.sendTimeMs)
            w.key(static: "emoticon")
            if let e = d.emoticon {
                w.beginObject()
                w.key(static: "unique"); w.string(e.unique)
                w.key(static: "url"); w.string(e.url)
                w.key(static: "width"); w.int(e.width)
                w.key(static: "height"); w.int(e.height)
                w.endObject()
            } else {
                w.null()
            }
            w.key(static: "mode"); w.int(d.mode)
            w.key(static: "color"); w.int(d.color)
            w.key(static: "user_hash"); w.string(d.userHash)
            w.key(static: "is_admin"); w.bool(d.isAdmin)
            w.key(static: "reply_uid"); optional(d.replyToUID, &w)
            w.key(static: "reply_uname"); optional(d.replyToUname, &w)
            w.key(static: "wealth_level"); optional(d.wealthLevel.map(Int64.init), &w)
        case .gift(let g):
            w.key(static: "gift_id"); w.int(g.giftID)
            w.key(static: "gift_name"); w.string(g.giftName)
            w.key(static: "num"); w.int(g.num)
            w.key(static: "price"); w.int(g.price)
            w.key(static: "coin_type"); w.string(g.coinType)
            w.key(static: "total_coin"); w.int(g.totalCoin)
            w.key(static: "uid"); w.int(g.uid)
            w.key(static: "uname"); w.string(g.uname)
            w.key(static: "action"); w.string(g.action)
            w.key(static: "timestamp"); w.int(g.timestamp)
            w.key(static: "tid"); optional(g.tid, &w)
            w.key(static: "batch_combo_id"); optional(g.batchComboID, &w)
            w.key(static: "medal"); medal(g.medal, &w)
            w.key(static: "guard_level"); w.int(g.guardLevel)
            w.key(static: "blind_gift_name"); optional(g.blindGiftName, &w)
            w.key(static: "receiver_uid"); optional(g.receiverUID, &w)
        case .combo(let c):
            w.key(static: "gift_id"); w.int(c.giftID)
            w.key(static: "gift_name"); w.string(c.giftName)
            w.key(static: "combo_num"); w.int(c.comboNum)
            w.key(static: "total_num"); w.int(c.totalNum)
            w.key(static: "combo_total_coin"); w.int(c.comboTotalCoin)
            w.key(static: "uid"); w.int(c.uid)
            w.key(static: "uname"); w.string(c.uname)
            w.key(static: "action"); w.string(c.action)
            w.key(static: "batch_combo_id"); w.string(c.batchComboID)
            w.key(static: "medal"); medal(c.medal, &w)
            w.key(static: "receiver_uid"); optional(c.receiverUID, &w)
        case .superChat(let s):
            w.key(static: "id"); w.int(s.id)
            w.key(static: "uid"); w.int(s.uid)
            w.key(static: "uname"); w.string(s.uname)
            w.key(static: "price"); w.int(s.price)
            w.key(static: "message"); w.string(s.message)
            w.key(static: "message_translated"); optional(s.messageTranslated, &w)
            w.key(static: "start_time"); w.int(s.startTime)
            w.key(static: "end_time"); w.int(s.endTime)
            w.key(static: "duration"); w.int(s.duration)
            w.key(static: "medal"); medal(s.medal, &w)
            w.key(static: "guard_level"); w.int(s.guardLevel)
            w.key(static: "user_level"); w.int(s.userLevel)
        case .superChatDelete(let s):
            w.key(static: "ids"); w.beginArray(); for id in s.ids { w.int(id) }; w.endArray()
        case .guardBuy(let g):
            w.key(static: "uid"); w.int(g.uid)
            w.key(static: "uname"); w.string(g.uname)
            w.key(static: "guard_level"); w.int(g.guardLevel)
            w.key(static: "num"); w.int(g.num)
            w.key(static: "price"); w.int(g.price)
            w.key(static: "gift_id"); w.int(g.giftID)
            w.key(static: "gift_name"); w.string(g.giftName)
            w.key(static: "start_time"); w.int(g.startTime)
        case .userToast(let t):
            w.key(static: "uid"); w.int(t.uid)
            w.key(static: "uname"); w.string(t.uname)
            w.key(static: "guard_level"); w.int(t.guardLevel)
            w.key(static: "num"); w.int(t.num)
            w.key(static: "price"); w.int(t.price)
            w.key(static: "unit"); w.string(t.unit)
            w.key(static: "role_name"); w.string(t.roleName)
            w.key(static: "toast_msg"); w.string(t.toastMessage)
            w.key(static: "start_time"); w.int(t.startTime)
        case .interact(let i):
            w.key(static: "action"); w.string(i.action.description)
            w.key(static: "msg_type"); w.int(i.msgType)
            w.key(static: "uid"); w.int(i.uid)
            w.key(static: "uname"); w.string(i.uname)
            w.key(static: "masked"); w.bool(i.isNameMasked)
            w.key(static: "medal"); medal(i.medal, &w)
            w.key(static: "timestamp"); w.int(i.timestamp)
            w.key(static: "roomid"); w.int(i.roomID)
        case .likeClick(let l):
            w.key(static: "uid"); w.int(l.uid)
            w.key(static: "uname"); w.string(l.uname)
            w.key(static: "like_text"); w.string(l.likeText)
            w.key(static: "medal"); medal(l.medal, &w)
        case .likeUpdate(let l):
            w.key(static: "click_count"); w.int(l.clickCount)
        case .watchedChange(let c):
            w.key(static: "num"); w.int(c.num)
            w.key(static: "text_small"); w.string(c.textSmall)
            w.key(static: "text_large"); w.string(c.textLarge)
        case .onlineRankCount(let c):
            w.key(static: "count"); w.int(c.count)
            w.key(static: "online_count"); optional(c.onlineCount, &w)
        case .live(let l):
            w.key(static: "roomid"); w.int(l.roomID)
            w.key(static: "live_key"); w.string(l.liveKey)
            w.key(static: "live_time"); optional(l.liveTime, &w)
            w.key(static: "live_platform"); w.string(l.livePlatform)
        case .preparing(let p):
            w.key(static: "roomid"); w.int(p.roomID)
            w.key(static: "round"); optional(p.round, &w)
        case .roomChange(let r):
            w.key(static: "title"); w.string(r.title)
            w.key(static: "area_id"); w.int(r.areaID)
            w.key(static: "parent_area_id"); w.int(r.parentAreaID)
            w.key(static: "area_name"); w.string(r.areaName)
            w.key(static: "parent_area_name"); w.string(r.parentAreaName)
            w.key(static: "live_key"); w.string(r.liveKey)
        case .warning(let x):
            w.key(static: "message"); w.string(x.message)
            w.key(static: "roomid"); w.int(x.roomID)
            w.key(static: "cut_off"); w.bool(x.isCutOff)
        case .loginNotice(let n):
            w.key(static: "message"); w.string(n.message)
        case .popularity(let p):
            w.key(static: "popularity"); w.int(p)
        case .authReply(let code):
            w.key(static: "code"); w.int(code)
        case .unknown(_, let raw):
            w.key(static: "raw")
            if raw.isEmpty {
                w.null()
            } else if raw.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                // Pretty-printed source: LF/CR/TAB can only be whitespace between tokens in valid JSON
                // (inside strings they must be escaped), so dropping them keeps the value and the one-line rule.
                w.raw(raw.lazy.filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
            } else {
                w.raw(raw)
            }
        }
    }

    static func medal(_ medal: Medal?, _ w: inout JSONWriter) {
        guard let medal else { return w.null() }
        w.beginObject()
        w.key(static: "name"); w.string(medal.name)
        w.key(static: "level"); w.int(medal.level)
        w.key(static: "anchor_room_id"); w.int(medal.anchorRoomID)
        w.key(static: "anchor_uid"); w.int(medal.anchorUID)
        w.key(static: "anchor_name"); w.string(medal.anchorName)
        w.key(static: "guard_level"); w.int(medal.guardLevel)
        w.key(static: "lighted"); w.bool(medal.isLighted)
        w.endObject()
    }

    static func optional(_ value: String?, _ w: inout JSONWriter) {
        if let value { w.string(value) } else { w.null() }
    }

    static func optional(_ value: Int64?, _ w: inout JSONWriter) {
        if let value { w.int(value) } else { w.null() }
    }
}
