/// The kinds of op-5 messages the simulator sends. `danmaku` is generated from a template per message (it carries
/// the sequence number); every other kind is a real body from Fixtures/samples sent verbatim.
public enum SampleKind: String, CaseIterable, Sendable, Hashable {
    case danmaku = "DANMU_MSG"
    case interactWord = "INTERACT_WORD"
    case interactWordFollow = "INTERACT_WORD(follow)"
    case sendGift = "SEND_GIFT"
    case sendGiftSilver = "SEND_GIFT(silver)"
    case watchedChange = "WATCHED_CHANGE"
    case onlineRankCount = "ONLINE_RANK_COUNT"
    case superChat = "SUPER_CHAT_MESSAGE"
    case guardBuy = "GUARD_BUY"
    case likeClick = "LIKE_INFO_V3_CLICK"
    case likeUpdate = "LIKE_INFO_V3_UPDATE"
    case comboSend = "COMBO_SEND"
    case entryEffect = "ENTRY_EFFECT"
    case stopLiveRoomList = "STOP_LIVE_ROOM_LIST"
    case onlineRankV2 = "ONLINE_RANK_V2"

    /// The `cmd` field of the body.
    public var cmd: String {
        switch self {
        case .interactWordFollow: "INTERACT_WORD"
        case .sendGiftSilver: "SEND_GIFT"
        default: rawValue
        }
    }

    /// The verbatim body for non-danmaku kinds (nil for `.danmaku`, which is templated).
    var staticBody: String? {
        switch self {
        case .danmaku: nil
        case .interactWord: SampleBodies.interactWord
        case .interactWordFollow: SampleBodies.interactWordFollow
        case .sendGift: SampleBodies.sendGift
        case .sendGiftSilver: SampleBodies.sendGiftSilver
        case .watchedChange: SampleBodies.watchedChange
        case .onlineRankCount: SampleBodies.onlineRankCount
        case .superChat: SampleBodies.superChat
        case .guardBuy: SampleBodies.guardBuy
        case .likeClick: SampleBodies.likeClick
        case .likeUpdate: SampleBodies.likeUpdate
        case .comboSend: SampleBodies.comboSend
        case .entryEffect: SampleBodies.entryEffect
        case .stopLiveRoomList: SampleBodies.stopLiveRoomList
        case .onlineRankV2: SampleBodies.onlineRankV2
        }
    }
}

/// Which kinds a room sends and how often, as integer weights. The order of kinds within a room is a fixed,
/// evenly spread cycle (deterministic, so tests can predict counts); each room starts at a different offset.
public struct MessageMix: Sendable, Equatable {
    public var weights: [SampleKind: Int]

    public init(weights: [SampleKind: Int]) {
        precondition(weights.values.allSatisfy { $0 >= 0 }, "weights must not be negative")
        precondition(weights.values.contains { $0 > 0 }, "at least one weight must be positive")
        self.weights = weights
    }

    /// Roughly what a busy room looks like: mostly danmaku, some entries, gifts, counters, rare SC/guard, and
    /// cmds a client does not know (STOP_LIVE_ROOM_LIST, ONLINE_RANK_V2, ENTRY_EFFECT).
    public static let realistic = MessageMix(weights: [
        .danmaku: 70, .interactWord: 6, .interactWordFollow: 2, .sendGift: 4, .sendGiftSilver: 2,
        .watchedChange: 3, .onlineRankCount: 3, .likeClick: 2, .likeUpdate: 1, .comboSend: 1, .superChat: 1,
        .guardBuy: 1, .entryEffect: 1, .stopLiveRoomList: 2, .onlineRankV2: 1,
    ])

    /// Danmaku only: every message carries a sequence number (throughput and completeness benchmarks).
    public static let danmakuOnly = MessageMix(weights: [.danmaku: 1])

    /// The cycle: each kind appears `weight` times, spread evenly (largest-remainder interleaving).
    func cycle() -> [SampleKind] {
        let kinds = SampleKind.allCases.filter { (weights[$0] ?? 0) > 0 }
        let total = kinds.reduce(0) { $0 + weights[$1]! }
        var credit = [Int](repeating: 0, count: kinds.count)
        var out: [SampleKind] = []
        out.reserveCapacity(total)
        for _ in 0..<total {
            // Smooth weighted round robin (as in nginx): deterministic and evenly spread.
            var best = 0
            for i in kinds.indices {
                credit[i] += weights[kinds[i]]!
                if credit[i] > credit[best] { best = i }
            }
            credit[best] -= total
            out.append(kinds[best])
        }
        return out
    }
}
