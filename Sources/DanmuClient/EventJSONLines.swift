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
    // JSONWriter would put a ',' between two top-level values; JSON Lines wants none, so drop it.
    let mark = writer.bytes.count
    writer.beginObject()
    if writer.bytes[mark] == UInt8(ascii: ",") { writer.bytes.remove(at: mark) }
    writer.key("room"); writer.int(room)
    writer.key("cmd"); writer.string(event.cmd)
    writer.key("kind"); writer.string(event.kind.rawValue)
    writer.key("received_at"); writer.int(receivedAt / 1_000_000)
    EventJSON.writeFields(of: event, into: &writer)
    writer.endObject()
    writer.bytes.append(UInt8(ascii: "\n"))
}

/// Field writers per kind.
enum EventJSON {
    static func writeFields(of event: DanmuEvent, into w: inout JSONWriter) {
        switch event {
        case .danmaku(let d):
            w.key("text"); w.string(d.text)
            w.key("uid"); w.int(d.uid)
            w.key("uname"); w.string(d.uname)
            w.key("masked"); w.bool(d.isNameMasked)
            w.key("id_str"); optional(d.idStr, &w)
            w.key("medal"); medal(d.medal, &w)
            w.key("guard_level"); w.int(d.guardLevel)
            w.key("user_level"); w.int(d.userLevel)
            w.key("send_time"); w.int(d.sendTimeMs)
            w.key("emoticon")
            if let e = d.emoticon {
                w.beginObject()
                w.key("unique"); w.string(e.unique)
                w.key("url"); w.string(e.url)
                w.key("width"); w.int(e.width)
                w.key("height"); w.int(e.height)
                w.endObject()
            } else {
                w.null()
            }
            w.key("mode"); w.int(d.mode)
            w.key("color"); w.int(d.color)
            w.key("user_hash"); w.string(d.userHash)
            w.key("is_admin"); w.bool(d.isAdmin)
            w.key("reply_uid"); optional(d.replyToUID, &w)
            w.key("reply_uname"); optional(d.replyToUname, &w)
            w.key("wealth_level"); optional(d.wealthLevel.map(Int64.init), &w)
        case .gift(let g):
            w.key("gift_id"); w.int(g.giftID)
            w.key("gift_name"); w.string(g.giftName)
            w.key("num"); w.int(g.num)
            w.key("price"); w.int(g.price)
            w.key("coin_type"); w.string(g.coinType)
            w.key("total_coin"); w.int(g.totalCoin)
            w.key("uid"); w.int(g.uid)
            w.key("uname"); w.string(g.uname)
            w.key("action"); w.string(g.action)
            w.key("timestamp"); w.int(g.timestamp)
            w.key("tid"); optional(g.tid, &w)
            w.key("batch_combo_id"); optional(g.batchComboID, &w)
            w.key("medal"); medal(g.medal, &w)
            w.key("guard_level"); w.int(g.guardLevel)
            w.key("blind_gift_name"); optional(g.blindGiftName, &w)
            w.key("receiver_uid"); optional(g.receiverUID, &w)
        case .combo(let c):
            w.key("gift_id"); w.int(c.giftID)
            w.key("gift_name"); w.string(c.giftName)
            w.key("combo_num"); w.int(c.comboNum)
            w.key("total_num"); w.int(c.totalNum)
            w.key("combo_total_coin"); w.int(c.comboTotalCoin)
            w.key("uid"); w.int(c.uid)
            w.key("uname"); w.string(c.uname)
            w.key("action"); w.string(c.action)
            w.key("batch_combo_id"); w.string(c.batchComboID)
            w.key("medal"); medal(c.medal, &w)
            w.key("receiver_uid"); optional(c.receiverUID, &w)
        case .superChat(let s):
            w.key("id"); w.int(s.id)
            w.key("uid"); w.int(s.uid)
            w.key("uname"); w.string(s.uname)
            w.key("price"); w.int(s.price)
            w.key("message"); w.string(s.message)
            w.key("message_translated"); optional(s.messageTranslated, &w)
            w.key("start_time"); w.int(s.startTime)
            w.key("end_time"); w.int(s.endTime)
            w.key("duration"); w.int(s.duration)
            w.key("medal"); medal(s.medal, &w)
            w.key("guard_level"); w.int(s.guardLevel)
            w.key("user_level"); w.int(s.userLevel)
        case .superChatDelete(let s):
            w.key("ids"); w.beginArray(); for id in s.ids { w.int(id) }; w.endArray()
        case .guardBuy(let g):
            w.key("uid"); w.int(g.uid)
            w.key("uname"); w.string(g.uname)
            w.key("guard_level"); w.int(g.guardLevel)
            w.key("num"); w.int(g.num)
            w.key("price"); w.int(g.price)
            w.key("gift_id"); w.int(g.giftID)
            w.key("gift_name"); w.string(g.giftName)
            w.key("start_time"); w.int(g.startTime)
        case .userToast(let t):
            w.key("uid"); w.int(t.uid)
            w.key("uname"); w.string(t.uname)
            w.key("guard_level"); w.int(t.guardLevel)
            w.key("num"); w.int(t.num)
            w.key("price"); w.int(t.price)
            w.key("unit"); w.string(t.unit)
            w.key("role_name"); w.string(t.roleName)
            w.key("toast_msg"); w.string(t.toastMessage)
            w.key("start_time"); w.int(t.startTime)
        case .interact(let i):
            w.key("action"); w.string(i.action.description)
            w.key("msg_type"); w.int(i.msgType)
            w.key("uid"); w.int(i.uid)
            w.key("uname"); w.string(i.uname)
            w.key("masked"); w.bool(i.isNameMasked)
            w.key("medal"); medal(i.medal, &w)
            w.key("timestamp"); w.int(i.timestamp)
            w.key("roomid"); w.int(i.roomID)
        case .likeClick(let l):
            w.key("uid"); w.int(l.uid)
            w.key("uname"); w.string(l.uname)
            w.key("like_text"); w.string(l.likeText)
            w.key("medal"); medal(l.medal, &w)
        case .likeUpdate(let l):
            w.key("click_count"); w.int(l.clickCount)
        case .watchedChange(let c):
            w.key("num"); w.int(c.num)
            w.key("text_small"); w.string(c.textSmall)
            w.key("text_large"); w.string(c.textLarge)
        case .onlineRankCount(let c):
            w.key("count"); w.int(c.count)
            w.key("online_count"); optional(c.onlineCount, &w)
        case .live(let l):
            w.key("roomid"); w.int(l.roomID)
            w.key("live_key"); w.string(l.liveKey)
            w.key("live_time"); optional(l.liveTime, &w)
            w.key("live_platform"); w.string(l.livePlatform)
        case .preparing(let p):
            w.key("roomid"); w.int(p.roomID)
            w.key("round"); optional(p.round, &w)
        case .roomChange(let r):
            w.key("title"); w.string(r.title)
            w.key("area_id"); w.int(r.areaID)
            w.key("parent_area_id"); w.int(r.parentAreaID)
            w.key("area_name"); w.string(r.areaName)
            w.key("parent_area_name"); w.string(r.parentAreaName)
            w.key("live_key"); w.string(r.liveKey)
        case .warning(let x):
            w.key("message"); w.string(x.message)
            w.key("roomid"); w.int(x.roomID)
            w.key("cut_off"); w.bool(x.isCutOff)
        case .loginNotice(let n):
            w.key("message"); w.string(n.message)
        case .popularity(let p):
            w.key("popularity"); w.int(p)
        case .authReply(let code):
            w.key("code"); w.int(code)
        case .unknown(_, let raw):
            w.key("raw")
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
        w.key("name"); w.string(medal.name)
        w.key("level"); w.int(medal.level)
        w.key("anchor_room_id"); w.int(medal.anchorRoomID)
        w.key("anchor_uid"); w.int(medal.anchorUID)
        w.key("anchor_name"); w.string(medal.anchorName)
        w.key("guard_level"); w.int(medal.guardLevel)
        w.key("lighted"); w.bool(medal.isLighted)
        w.endObject()
    }

    static func optional(_ value: String?, _ w: inout JSONWriter) {
        if let value { w.string(value) } else { w.null() }
    }

    static func optional(_ value: Int64?, _ w: inout JSONWriter) {
        if let value { w.int(value) } else { w.null() }
    }
}
