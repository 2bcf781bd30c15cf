/// One-line human-readable rendering of events for terminals, e.g.
/// `[14073662] danmaku 北极猫25 too_long_name: 下午好`.
///
/// Every piece of server text passes `EventText.sanitize`: control characters (ESC, CR, LF, …) become `?`/space
/// so a message cannot move the cursor, rewrite the terminal title or break the one-line promise.
public enum EventText {
    /// The line for `event` without a trailing newline.
    public static func line(room: Int64, event: DanmuEvent) -> String {
        "[\(room)] \(event.kind.rawValue) " + body(event)
    }

    static func body(_ event: DanmuEvent) -> String {
        switch event {
        case .danmaku(let d):
            let guardMark = guardName(d.guardLevel).map { "<\($0)> " } ?? ""
            let masked = d.isNameMasked ? " (masked)" : ""
            let sticker = d.emoticon != nil ? " [sticker]" : ""
            return guardMark + medal(d.medal) + clean(d.uname) + masked + ": " + clean(d.text) + sticker
        case .gift(let g):
            let blind = g.blindGiftName.map { " from \(clean($0))" } ?? ""
            return "\(medal(g.medal))\(clean(g.uname)) \(clean(g.action)) \(clean(g.giftName)) x\(g.num)\(blind)"
                + " (\(g.totalCoin) \(clean(g.coinType)))"
        case .combo(let c):
            return "\(clean(c.uname)) \(clean(c.action)) \(clean(c.giftName)) combo x\(c.comboNum) total \(c.totalNum)"
        case .superChat(let s):
            return "¥\(s.price) \(medal(s.medal))\(clean(s.uname)): \(clean(s.message))"
        case .superChatDelete(let s):
            return "removed " + s.ids.map(String.init).joined(separator: ",")
        case .guardBuy(let g):
            return "\(clean(g.uname)) bought \(clean(g.giftName)) x\(g.num) (\(g.price) gold)"
        case .userToast(let t):
            return "\(clean(t.uname)) \(clean(t.roleName)) x\(t.num) \(clean(t.unit))"
        case .interact(let i):
            return "\(medal(i.medal))\(clean(i.uname))\(i.isNameMasked ? " (masked)" : "") \(i.action)"
        case .likeClick(let l):
            return "\(clean(l.uname)) \(clean(l.likeText))"
        case .likeUpdate(let l):
            return "likes \(l.clickCount)"
        case .watchedChange(let c):
            return "watched \(c.num)"
        case .onlineRankCount(let c):
            return "rank count \(c.count)" + (c.onlineCount.map { " online \($0)" } ?? "")
        case .live(let l):
            return "live started (\(clean(l.livePlatform)))"
        case .preparing(let p):
            return "live ended" + (p.round == 1 ? " (rotation)" : "")
        case .roomChange(let r):
            return "\(clean(r.title)) — \(clean(r.parentAreaName))/\(clean(r.areaName))"
        case .warning(let w):
            return "\(w.cmd): \(clean(w.message))"
        case .loginNotice(let n):
            return clean(n.message)
        case .popularity(let p):
            return "popularity \(p)"
        case .authReply(let code):
            return "auth reply code \(code)"
        case .unknown(let cmd, let raw):
            return clean(cmd) + " (\(raw.count) bytes)"
        }
    }

    static func medal(_ medal: Medal?) -> String {
        guard let medal else { return "" }
        return "[\(clean(medal.name)) \(medal.level)] "
    }

    static func guardName(_ level: Int) -> String? {
        switch level {
        case 1: return "总督"
        case 2: return "提督"
        case 3: return "舰长"
        default: return nil
        }
    }

    @inline(__always) static func clean(_ text: String) -> String { sanitize(text) }

    /// Replaces C0/C1 control characters and DEL: tab/newline/CR become a space, everything else `?`.
    public static func sanitize(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: isControl) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !isControl(scalar) {
                out.append(scalar)
            } else if scalar == "\n" || scalar == "\r" || scalar == "\t" {
                out.append(" ")
            } else {
                out.append("?")
            }
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
