/// `INTERACT_WORD` (JSON) / `INTERACT_WORD_V2` (protobuf in `data.pb`): enter, follow, share… (PROTOCOL.md §13.4).
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

/// `LIKE_INFO_V3_UPDATE`: total likes.
public struct LikeUpdate: Sendable, Equatable {
    public var clickCount: Int64
    public init(clickCount: Int64) { self.clickCount = clickCount }
}

/// `WATCHED_CHANGE`: cumulative "N人看过".
public struct WatchedChange: Sendable, Equatable {
    public var num: Int64
    public var textSmall: String
    public var textLarge: String
    public init(num: Int64, textSmall: String = "", textLarge: String = "") {
        self.num = num
        self.textSmall = textSmall
        self.textLarge = textLarge
    }
}

/// `ONLINE_RANK_COUNT`: high-energy user count (and the online count when given).
public struct OnlineRankCount: Sendable, Equatable {
    public var count: Int64
    public var onlineCount: Int64?
    public init(count: Int64, onlineCount: Int64? = nil) {
        self.count = count
        self.onlineCount = onlineCount
    }
}
