import TestSupport
import XCTest

@testable import DanmuClient

/// The cmd → kind table that `EventParser` builds from the kinds' own files (`EventKindCodec`): every cmd the
/// parser has ever known still reaches its kind, each kind's codec names that kind, and a message its codec
/// cannot read is still delivered, as `.unknown`.
final class EventKindCodecTests: XCTestCase {
    /// Every cmd with a typed model, and its kind. A cmd missing here would silently become `.unknown`.
    static let commands: [String: EventKind] = [
        "DANMU_MSG": .danmaku, "DANMU_MSG_MIRROR": .danmaku,
        "SEND_GIFT": .gift, "SEND_GIFT_V2": .gift, "COMBO_SEND": .combo,
        "SUPER_CHAT_MESSAGE": .superChat, "SUPER_CHAT_MESSAGE_JPN": .superChat,
        "SUPER_CHAT_MESSAGE_DELETE": .superChatDelete,
        "GUARD_BUY": .guardBuy, "USER_TOAST_MSG": .userToast, "USER_TOAST_MSG_V2": .userToast,
        "INTERACT_WORD": .interact, "INTERACT_WORD_V2": .interact,
        "LIKE_INFO_V3_CLICK": .likeClick, "LIKE_INFO_V3_UPDATE": .likeUpdate,
        "WATCHED_CHANGE": .watchedChange, "ONLINE_RANK_COUNT": .onlineRankCount,
        "LIVE": .live, "PREPARING": .preparing, "ROOM_CHANGE": .roomChange,
        "WARNING": .warning, "CUT_OFF": .warning, "CUT_OFF_V2": .warning,
        "LOG_IN_NOTICE": .loginNotice,
        "ONLINE_RANK_V2": .onlineRank, "ONLINE_RANK_V3": .onlineRank,
        "ENTRY_EFFECT": .entryEffect, "ENTRY_EFFECT_MUST_RECEIVE": .entryEffect,
        "NOTICE_MSG": .notice, "COMMON_NOTICE_DANMAKU": .commonNotice, "HOT_ROOM_NOTIFY": .hotRoomNotify,
        "WIDGET_BANNER": .widgetBanner, "STOP_LIVE_ROOM_LIST": .stopLiveRoomList,
        "SUPER_CHAT_ENTRANCE": .superChatEntrance, "DM_INTERACTION": .dmInteraction,
        "RECALL_DANMU_MSG": .recallDanmaku, "ROOM_BLOCK_MSG": .roomBlock,
        "ROOM_SILENT_ON": .roomSilent, "ROOM_SILENT_OFF": .roomSilent,
        "POPULARITY_RED_POCKET_START": .redPocket, "POPULARITY_RED_POCKET_NEW": .redPocket,
        "POPULARITY_RED_POCKET_WINNER_LIST": .redPocket,
        "PK_BATTLE_PRE": .pkBattle, "PK_BATTLE_PRE_NEW": .pkBattle, "PK_BATTLE_START": .pkBattle,
        "PK_BATTLE_START_NEW": .pkBattle, "PK_BATTLE_PROCESS": .pkBattle, "PK_BATTLE_PROCESS_NEW": .pkBattle,
        "PK_BATTLE_END": .pkBattle, "PK_BATTLE_SETTLE": .pkBattle, "PK_BATTLE_SETTLE_NEW": .pkBattle,
        "ANCHOR_LOT_START": .anchorLot, "ANCHOR_LOT_END": .anchorLot, "ANCHOR_LOT_AWARD": .anchorLot,
    ]

    func testTheTableHoldsEveryKnownCmdAndNoOther() {
        XCTAssertEqual(EventParser.codecs.mapValues { $0.kind }, Self.commands)
    }

    func testEachKindsCodecNamesThatKind() {
        for kind in EventKind.allCases {
            if let codec = kind.codec {
                XCTAssertEqual(codec.kind, kind)
                XCTAssertFalse(codec.commands.isEmpty, "\(kind) has a codec but no cmds")
            } else {
                XCTAssertTrue([.popularity, .authReply, .unknown].contains(kind), "\(kind) has no codec")
            }
        }
    }

    /// `cmd` of every parsed sample is one of its kind's cmds (or the message's own cmd for `.unknown`).
    func testEveryParsedCmdIsOneOfItsKindsCmds() throws {
        let samples = TestFiles.list("Fixtures/samples").filter { $0.hasSuffix(".json") && !$0.hasPrefix("http_") }
        XCTAssertGreaterThanOrEqual(samples.count, 50)
        for file in samples {
            var events: [DanmuEvent] = []
            try EventParser.parse(message: TestFiles.mustRead("Fixtures/samples/\(file)"), into: &events)
            for event in events {
                if let codec = event.kind.codec {
                    XCTAssertTrue(codec.commands.contains(event.cmd), "\(file): \(event.cmd) for \(event.kind)")
                } else {
                    XCTAssertEqual(event.kind, .unknown, file)
                }
            }
        }
    }

    func testSuffixedCmdReachesItsKindWithTheSuffixStripped() throws {
        var events: [DanmuEvent] = []
        let danmaku = #"{"cmd":"DANMU_MSG:4:0:2:2:2:0","info":[[],"hi",[1,"a"]]}"#
        try EventParser.parse(message: Array(danmaku.utf8), into: &events)
        try EventParser.parse(message: Array(#"{"cmd":"WATCHED_CHANGE:1","data":{"num":3}}"#.utf8), into: &events)
        XCTAssertEqual(events.map(\.kind), [.danmaku, .watchedChange])
        XCTAssertEqual(events.map(\.cmd), ["DANMU_MSG", "WATCHED_CHANGE"])
    }

    /// A known cmd whose codec finds nothing to read (no `data`, no `info`) is delivered raw, not dropped.
    func testKnownCmdWithoutItsFieldsArrivesAsUnknown() throws {
        let needFields = [
            "SEND_GIFT", "COMBO_SEND", "SUPER_CHAT_MESSAGE_DELETE", "INTERACT_WORD", "ROOM_CHANGE", "DANMU_MSG",
        ]
        for cmd in needFields {
            let body = #"{"cmd":"\#(cmd)"}"#
            var events: [DanmuEvent] = []
            try EventParser.parse(message: Array(body.utf8), into: &events)
            XCTAssertEqual(events, [.unknown(cmd: cmd, raw: Array(body.utf8))], cmd)
        }
        // LIVE, PREPARING, WARNING and LOG_IN_NOTICE read the top level too: they always yield their kind.
        let alwaysTyped: [(String, EventKind)] = [
            ("LIVE", .live), ("PREPARING", .preparing), ("WARNING", .warning), ("LOG_IN_NOTICE", .loginNotice),
        ]
        for (cmd, kind) in alwaysTyped {
            var events: [DanmuEvent] = []
            try EventParser.parse(message: Array(#"{"cmd":"\#(cmd)"}"#.utf8), into: &events)
            XCTAssertEqual(events.map(\.kind), [kind], cmd)
        }
    }

    /// The kinds that do not come from a cmd still answer `kind`, `cmd`, JSON fields and a text line.
    func testPseudoKindsWithoutACodec() {
        let cases: [(DanmuEvent, EventKind, String, String)] = [
            (.popularity(7), .popularity, "HEARTBEAT_REPLY", "popularity 7"),
            (.authReply(code: -101), .authReply, "AUTH_REPLY", "auth reply code -101"),
            (.unknown(cmd: "NOTICE_MSG", raw: Array("{}".utf8)), .unknown, "NOTICE_MSG", "NOTICE_MSG (2 bytes)"),
        ]
        for (event, kind, cmd, text) in cases {
            XCTAssertEqual(event.kind, kind)
            XCTAssertEqual(event.cmd, cmd)
            XCTAssertEqual(EventText.line(room: 1, event: event), "[1] \(kind.rawValue) \(text)")
        }
    }
}
