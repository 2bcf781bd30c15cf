import DanmuCodecs

// The room's audience counters: watched, high-energy rank count, likes, and the op 3 popularity.

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

/// `LIKE_INFO_V3_UPDATE`: total likes.
public struct LikeUpdate: Sendable, Equatable {
    public var clickCount: Int64
    public init(clickCount: Int64) { self.clickCount = clickCount }
}

extension WatchedChange: EventKindCodec {
    static var kind: EventKind { .watchedChange }
    static let commands = ["WATCHED_CHANGE"]
    var event: DanmuEvent { .watchedChange(self) }
    var cmd: String { "WATCHED_CHANGE" }

    static func parse(_ message: EventMessage) -> WatchedChange? {
        message.data.map { data in
            WatchedChange(
                num: int(data["num"]), textSmall: string(data["text_small"]), textLarge: string(data["text_large"]))
        }
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "num"); w.int(num)
        w.key(static: "text_small"); w.string(textSmall)
        w.key(static: "text_large"); w.string(textLarge)
    }

    var textLine: String { "watched \(num)" }
}

extension OnlineRankCount: EventKindCodec {
    static var kind: EventKind { .onlineRankCount }
    static let commands = ["ONLINE_RANK_COUNT"]
    var event: DanmuEvent { .onlineRankCount(self) }
    var cmd: String { "ONLINE_RANK_COUNT" }

    static func parse(_ message: EventMessage) -> OnlineRankCount? {
        message.data.map { data in
            OnlineRankCount(count: int(data["count"]), onlineCount: data["online_count"]?.int64Lenient)
        }
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "count"); w.int(count)
        w.key(static: "online_count"); w.optional(onlineCount)
    }

    var textLine: String { "rank count \(count)" + (onlineCount.map { " online \($0)" } ?? "") }
}

extension LikeUpdate: EventKindCodec {
    static var kind: EventKind { .likeUpdate }
    static let commands = ["LIKE_INFO_V3_UPDATE"]
    var event: DanmuEvent { .likeUpdate(self) }
    var cmd: String { "LIKE_INFO_V3_UPDATE" }

    static func parse(_ message: EventMessage) -> LikeUpdate? {
        message.data.map { LikeUpdate(clickCount: int($0["click_count"])) }
    }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "click_count"); w.int(clickCount)
    }

    var textLine: String { "likes \(clickCount)" }
}

/// `.popularity`: the op 3 heartbeat reply's legacy "popularity" (人气值), decoded by `MessageDecoder`, not
/// from a cmd; `DanmuEvent.popularity` carries the bare number.
struct PopularityPayload: EventPayload {
    static var kind: EventKind { .popularity }
    let value: UInt32
    var cmd: String { "HEARTBEAT_REPLY" }

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "popularity"); w.int(value)
    }

    var textLine: String { "popularity \(value)" }
}
