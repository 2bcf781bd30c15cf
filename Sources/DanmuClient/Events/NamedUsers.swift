import DanmuCodecs

// The people the kinds of issue 16 name, for the anonymizer (DanmuPipeline `EventFields`): it must rewrite every
// uid and name an event carries, or a pseudonymized stream leaks them through these kinds.

extension DanmuEvent {
    /// The one person an issue-16 kind is about: who entered (`entry_effect`), who was muted (`room_block`), who
    /// sent a red packet (`red_pocket` START/NEW). nil for the other kinds (the older ones are in `EventFields`).
    public var namedUser: (uid: Int64, uname: String)? {
        switch self {
        case .entryEffect(let e): return (e.uid, e.uname)
        case .roomBlock(let e): return (e.uid, e.uname)
        case .redPocket(let e) where e.uid != 0 || !e.uname.isEmpty: return (e.uid, e.uname)
        default: return nil
        }
    }

    /// Rewrites every uid and name an issue-16 kind carries: the user, the ranked users, the winners, the PK
    /// sides' top supporters, and the name inside `entry_effect`'s `copy_writing`. Other kinds are left as they are.
    public mutating func rewriteNamedUsers(uid: (Int64) -> Int64, name: (String) -> String) {
        switch self {
        case .entryEffect(var e):
            let original = e.uname
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            e.copyWriting = EntryEffect.replacingName(original, with: e.uname, in: e.copyWriting)
            self = .entryEffect(e)
        case .roomBlock(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            self = .roomBlock(e)
        case .redPocket(var e):
            e.uid = uid(e.uid)
            e.uname = name(e.uname)
            for index in e.winners.indices {
                e.winners[index].uid = uid(e.winners[index].uid)
                e.winners[index].uname = name(e.winners[index].uname)
            }
            self = .redPocket(e)
        case .anchorLot(var e):
            for index in e.awardUsers.indices {
                e.awardUsers[index].uid = uid(e.awardUsers[index].uid)
                e.awardUsers[index].uname = name(e.awardUsers[index].uname)
            }
            self = .anchorLot(e)
        case .onlineRank(var e):
            for index in e.list.indices {
                e.list[index].uid = uid(e.list[index].uid)
                e.list[index].uname = name(e.list[index].uname)
            }
            self = .onlineRank(e)
        case .pkBattle(var e):
            if let best = e.initInfo?.bestUname { e.initInfo?.bestUname = name(best) }
            if let best = e.matchInfo?.bestUname { e.matchInfo?.bestUname = name(best) }
            self = .pkBattle(e)
        default:
            break
        }
    }
}

extension EntryEffect {
    /// `copy_writing` with the `<%name%>` marker's content replaced (unchanged when it holds another name).
    static func replacingName(_ old: String, with new: String, in text: String) -> String {
        let marked = Array(("<%" + old + "%>").utf8)
        let bytes = Array(text.utf8)
        guard !old.isEmpty, bytes.count >= marked.count,
            let start = (0...(bytes.count - marked.count)).first(where: {
                bytes[$0..<$0 + marked.count].elementsEqual(marked)
            })
        else { return text }
        let replaced = bytes[..<start] + Array(("<%" + new + "%>").utf8) + bytes[(start + marked.count)...]
        return String(decoding: replaced, as: UTF8.self)
    }
}
