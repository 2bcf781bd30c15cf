import DanmuClient

/// The user-identifying and text fields of the kinds that carry them, read and rewritten in one place so the
/// filter, the anonymizer and the sinks agree on which kinds have a uid, a name or a text.
enum EventFields {
    /// The sender's uid, for the kinds that name one.
    static func uid(of event: DanmuEvent) -> Int64? {
        switch event {
        case .danmaku(let e): return e.uid
        case .gift(let e): return e.uid
        case .combo(let e): return e.uid
        case .superChat(let e): return e.uid
        case .guardBuy(let e): return e.uid
        case .userToast(let e): return e.uid
        case .interact(let e): return e.uid
        case .likeClick(let e): return e.uid
        default: return event.namedUser?.uid
        }
    }

    static func uname(of event: DanmuEvent) -> String? {
        switch event {
        case .danmaku(let e): return e.uname
        case .gift(let e): return e.uname
        case .combo(let e): return e.uname
        case .superChat(let e): return e.uname
        case .guardBuy(let e): return e.uname
        case .userToast(let e): return e.uname
        case .interact(let e): return e.uname
        case .likeClick(let e): return e.uname
        default: return event.namedUser?.uname
        }
    }

    /// What a person wrote: a danmaku's text, a super chat's message.
    static func text(of event: DanmuEvent) -> String? {
        switch event {
        case .danmaku(let e): return e.text
        case .superChat(let e): return e.message
        default: return nil
        }
    }

    /// The number a room-count row keeps: popularity (op 3), watched (WATCHED_CHANGE), online rank count.
    static func roomCount(of event: DanmuEvent) -> Int64? {
        switch event {
        case .popularity(let value): return Int64(value)
        case .watchedChange(let e): return e.num
        case .onlineRankCount(let e): return e.count
        default: return nil
        }
    }

    /// The dedupe key of an event (see `DedupeStage`): nil when the kind has no stable identity.
    static func dedupeKey(of event: DanmuEvent) -> String? {
        switch event {
        case .danmaku(let e): return e.idStr.map { "d:" + $0 }
        case .superChat(let e): return "sc:\(e.id)"
        case .gift(let e): return e.tid.map { "g:" + $0 }
        case .guardBuy(let e): return "gb:\(e.uid):\(e.startTime):\(e.giftID)"
        default: return nil
        }
    }

    /// Replaces every uid and name in `event` with `uid(_:)` / `name(_:)`; for a danmaku also the reply target
    /// and `userHash` (a CRC32 of the uid: left as it is, it would undo the anonymization).
    static func rewriteIdentity(
        of event: inout DanmuEvent, uid: (Int64) -> Int64, name: (String) -> String, userHash: (Int64) -> String
    ) {
        switch event {
        case .danmaku(var e):
            e.userHash = userHash(e.uid)
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            e.replyToUID = e.replyToUID.map(uid)
            e.replyToUname = e.replyToUname.map(name)
            event = .danmaku(e)
        case .gift(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .gift(e)
        case .combo(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .combo(e)
        case .superChat(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .superChat(e)
        case .guardBuy(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .guardBuy(e)
        case .userToast(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .userToast(e)
        case .interact(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .interact(e)
        case .likeClick(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            event = .likeClick(e)
        default:
            event.rewriteNamedUsers(uid: uid, name: name)  // the kinds of issue 16 (DanmuClient NamedUsers.swift)
        }
    }
}
