import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// Every message sample in Fixtures/samples becomes the right typed event with the right fields.
final class SampleTests: XCTestCase {
    static func events(_ file: String) throws -> [DanmuEvent] {
        var events: [DanmuEvent] = []
        try EventParser.parse(message: TestFiles.mustRead("Fixtures/samples/\(file)"), into: &events)
        return events
    }

    static func single(_ file: String) throws -> DanmuEvent {
        let events = try events(file)
        XCTAssertEqual(events.count, 1, file)
        return try XCTUnwrap(events.first)
    }

    /// Each sample's kind, by file-name prefix; cmds without a typed model must come out as .unknown.
    func testEverySampleHasTheExpectedKind() throws {
        let kinds: [String: EventKind] = [
            "COMBO_SEND": .combo, "CUT_OFF": .warning, "DANMU_MSG": .danmaku, "DANMU_MSG_3_7_1_1_1_1": .danmaku,
            "DM_INTERACTION": .dmInteraction, "ENTRY_EFFECT": .entryEffect, "GUARD_BUY": .guardBuy,
            "INTERACT_WORD": .interact,
            "INTERACT_WORD_V2": .interact, "LIKE_INFO_V3_CLICK": .likeClick, "LIKE_INFO_V3_UPDATE": .likeUpdate,
            "LIVE": .live, "LIVE_INTERACTIVE_GAME": .unknown, "LOG_IN_NOTICE": .loginNotice, "NOTICE_MSG": .notice,
            "ONLINE_RANK_COUNT": .onlineRankCount, "ONLINE_RANK_V2": .onlineRank, "ONLINE_RANK_V3": .onlineRank,
            "PREPARING": .preparing, "RECALL_DANMU_MSG": .recallDanmaku, "ROOM_BLOCK_MSG": .roomBlock,
            "ROOM_CHANGE": .roomChange, "ROOM_REAL_TIME_MESSAGE_UPDATE": .unknown, "SEND_GIFT": .gift,
            "STOP_LIVE_ROOM_LIST": .stopLiveRoomList, "SUPER_CHAT_MESSAGE": .superChat,
            "SUPER_CHAT_MESSAGE_DELETE": .superChatDelete,
            "SYS_MSG": .unknown, "USER_TOAST_MSG": .userToast,
            "WARNING": .warning, "WATCHED_CHANGE": .watchedChange,
            "ANCHOR_LOT_AWARD": .anchorLot, "ANCHOR_LOT_END": .anchorLot, "ANCHOR_LOT_START": .anchorLot,
            "COMMON_NOTICE_DANMAKU": .commonNotice, "ENTRY_EFFECT_MUST_RECEIVE": .entryEffect,
            "HOT_ROOM_NOTIFY": .hotRoomNotify, "PK_BATTLE_END": .pkBattle, "PK_BATTLE_PROCESS_NEW": .pkBattle,
            "PK_BATTLE_START_NEW": .pkBattle, "POPULARITY_RED_POCKET_NEW": .redPocket,
            "POPULARITY_RED_POCKET_START": .redPocket, "POPULARITY_RED_POCKET_WINNER_LIST": .redPocket,
            "ROOM_SILENT_OFF": .roomSilent, "ROOM_SILENT_ON": .roomSilent, "SUPER_CHAT_ENTRANCE": .superChatEntrance,
            "WIDGET_BANNER": .widgetBanner,
        ]
        let samples = TestFiles.list("Fixtures/samples").filter { $0.hasSuffix(".json") && !$0.hasPrefix("http_") }
        XCTAssertGreaterThanOrEqual(samples.count, 50)
        for file in samples {
            let prefix = String(file.split(separator: ".")[0])
            let events = try Self.events(file)
            if prefix == "SUPER_CHAT_MESSAGE_JPN" {  // a duplicate of SUPER_CHAT_MESSAGE: no event
                XCTAssertEqual(events, [], file)
                continue
            }
            let expected = try XCTUnwrap(kinds[prefix], "no expectation for \(file)")
            XCTAssertEqual(events.map(\.kind), [expected], file)
            if case .unknown(let cmd, let raw) = events.first {
                XCTAssertEqual(cmd, prefix, file)
                XCTAssertEqual(raw.first, UInt8(ascii: "{"), file)
            }
        }
    }

    func testModernDanmaku() throws {
        guard case .danmaku(let d) = try Self.single("DANMU_MSG.ubw-2024-03.json") else { return XCTFail() }
        XCTAssertEqual(d.text, "......")
        XCTAssertEqual(d.uid, 3_546_571_385_866_489)
        XCTAssertEqual(d.uname, "孤丶独の观测者")
        XCTAssertFalse(d.isNameMasked)
        XCTAssertNil(d.medal)  // info[3] == []
        XCTAssertEqual(d.userLevel, 1)
        XCTAssertEqual(d.sendTimeMs, 1_710_916_697_432)
        XCTAssertEqual(d.idStr, "1ff943b6b581c71a6207c5329965fa8488")
        XCTAssertEqual(d.replyToUID, 2_351_778)
        XCTAssertEqual(d.replyToUname, "橘枳橼")
        XCTAssertNil(d.emoticon)  // info[0][13] == "{}"
        XCTAssertEqual(d.userHash, "177882c0")
        XCTAssertEqual(d.wealthLevel, 0)
    }

    func testEmoticonDanmakuWithMedal() throws {
        guard case .danmaku(let d) = try Self.single("DANMU_MSG.emoticon.ubw-2024-04.json") else { return XCTFail() }
        XCTAssertEqual(d.text, "[艾尔莎收藏集_mua]")
        XCTAssertEqual(
            d.emoticon,
            Emoticon(
                unique: "upower_[艾尔莎收藏集_mua]",
                url: "https://i0.hdslb.com/bfs/garb/350bb1e2b970def0444baf1de0a9d25e27769635.png",
                width: 20, height: 20))
        XCTAssertEqual(d.medal?.name, "艾薯条")
        XCTAssertEqual(d.medal?.level, 29)
        XCTAssertEqual(d.medal?.anchorRoomID, 81004)
        XCTAssertEqual(d.medal?.anchorUID, 1_521_415)
        XCTAssertEqual(d.guardLevel, 3)
        XCTAssertEqual(d.userLevel, 25)
        XCTAssertEqual(d.wealthLevel, 38)
        XCTAssertEqual(d.idStr, "343a52f34489799508c91605ae6625ef14")
    }

    func testMaskedSpecialDanmakuWithSuffixAndNullMedal() throws {
        let event = try Self.single("DANMU_MSG_3_7_1_1_1_1.masked-uname.ubw-2024-04.json")
        XCTAssertEqual(event.cmd, "DANMU_MSG")
        guard case .danmaku(let d) = event else { return XCTFail() }
        XCTAssertEqual(d.uid, 0)
        XCTAssertEqual(d.uname, "***")
        XCTAssertTrue(d.isNameMasked)
        XCTAssertNil(d.medal)  // info[3] == null
        XCTAssertEqual(d.mode, 7)
        XCTAssertTrue(d.text.hasPrefix("[1.0,0.0,"))
        XCTAssertNil(d.idStr)
    }

    func testGift() throws {
        guard case .gift(let g) = try Self.single("SEND_GIFT.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(g.giftName, "小花花")
        XCTAssertEqual(g.giftID, 31036)
        XCTAssertEqual(g.num, 1)
        XCTAssertEqual(g.price, 100)
        XCTAssertEqual(g.coinType, "gold")
        XCTAssertEqual(g.uid, 510_149_209)
        XCTAssertEqual(g.uname, "12138额83121")
        XCTAssertEqual(g.action, "投喂")
        XCTAssertEqual(g.batchComboID, "batch:gift:combo_id:510149209:36047134:31036:1673622464.8445")
    }

    func testSuperChatsWithStringIDs() throws {
        // SUPER_CHAT_MESSAGE_JPN yields no event (a duplicate), but its string ids are still what the parser reads.
        let root = try JSONDocument(
            parsing: TestFiles.mustRead("Fixtures/samples/SUPER_CHAT_MESSAGE_JPN.bac-doc.json"), maxDepth: 64
        ).root
        let message = EventMessage(root: root, cmd: "SUPER_CHAT_MESSAGE_JPN", data: root["data"])
        let jpn = try XCTUnwrap(SuperChat.parse(message))
        XCTAssertEqual(jpn.cmd, "SUPER_CHAT_MESSAGE_JPN")
        XCTAssertEqual(jpn.id, 3_790_747)
        XCTAssertEqual(jpn.uid, 394_060_741)
        XCTAssertEqual(jpn.price, 30)
        XCTAssertEqual(jpn.uname, "改了名真的能中吗")
        XCTAssertEqual(jpn.medal?.name, "棉花花")
        XCTAssertEqual(jpn.medal?.level, 24)
        XCTAssertEqual(jpn.guardLevel, 3)
        guard case .superChat(let sc) = try Self.single("SUPER_CHAT_MESSAGE.bac-doc.json") else { return XCTFail() }
        XCTAssertGreaterThan(sc.price, 0)
        XCTAssertFalse(sc.message.isEmpty)
        XCTAssertEqual(
            try Self.single("SUPER_CHAT_MESSAGE_DELETE.bac-doc.json"),
            .superChatDelete(SuperChatDelete(ids: [3_897_503])))
    }

    func testGuardAndToast() throws {
        guard case .guardBuy(let g) = try Self.single("GUARD_BUY.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(g.uname, "妙妙喵喵妙妙喵O_O")
        XCTAssertEqual(g.price, 198_000)
        XCTAssertEqual(g.guardLevel, 3)
        XCTAssertEqual(g.giftName, "舰长")
        guard case .userToast(let t) = try Self.single("USER_TOAST_MSG.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(t.uid, 79_667_344)
        XCTAssertEqual(t.price, 138_000)
        XCTAssertEqual(t.unit, "月")
        XCTAssertEqual(t.roleName, "舰长")
    }

    func testInteractLikeCountersAndRoomStatus() throws {
        guard case .interact(let i) = try Self.single("INTERACT_WORD.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(i.action, .enter)
        XCTAssertEqual(i.uname, "TIM_Init")
        XCTAssertEqual(i.medal?.name, "小豆皮")
        XCTAssertEqual(i.roomID, 24_143_902)
        guard case .likeClick(let l) = try Self.single("LIKE_INFO_V3_CLICK.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(l.uname, "MeiDngS")
        XCTAssertNil(l.medal)  // all-zero fans_medal
        XCTAssertEqual(try Self.single("LIKE_INFO_V3_UPDATE.bac-doc.json"), .likeUpdate(LikeUpdate(clickCount: 3227)))
        XCTAssertEqual(
            try Self.single("WATCHED_CHANGE.bac-doc.json"),
            .watchedChange(WatchedChange(num: 17903, textSmall: "1.7万", textLarge: "1.7万人看过")))
        XCTAssertEqual(
            try Self.single("ONLINE_RANK_COUNT.bac-doc.json"),
            .onlineRankCount(OnlineRankCount(count: 1084, onlineCount: 1084)))
        guard case .live(let live) = try Self.single("LIVE.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(live.roomID, 23_614_753)
        XCTAssertEqual(live.liveKey, "234304209915761953")
        XCTAssertEqual(live.liveTime, 1_651_036_923)
        guard case .preparing(let p) = try Self.single("PREPARING.1.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(p.roomID, 1_899_237_171)  // arrives as a string
        XCTAssertEqual(p.round, 1)
        guard case .roomChange(let r) = try Self.single("ROOM_CHANGE.1.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(r.title, "开始白给CS")
        XCTAssertEqual(r.areaID, 371)
        guard case .warning(let cut) = try Self.single("CUT_OFF.bac-doc.json") else { return XCTFail() }
        XCTAssertTrue(cut.isCutOff)
        XCTAssertEqual(cut.roomID, 23_993_070)
        guard case .loginNotice(let n) = try Self.single("LOG_IN_NOTICE.bac-doc.json") else { return XCTFail() }
        XCTAssertTrue(n.message.hasPrefix("为保护用户隐私"))
    }

    func testEdgeShapes() throws {
        var events: [DanmuEvent] = []
        // cmd absent at top level: taken from msg.cmd.
        try EventParser.parse(message: Array(#"{"msg":{"cmd":"WARNING"},"roomid":"5"}"#.utf8), into: &events)
        // Suffix stripped, RECALL_DANMU_MSG not confused with DANMU_MSG.
        try EventParser.parse(message: Array(#"{"cmd":"RECALL_DANMU_MSG:1","data":{}}"#.utf8), into: &events)
        // No cmd anywhere: unknown with empty cmd, never dropped.
        try EventParser.parse(message: Array(#"{"x":1}"#.utf8), into: &events)
        // DANMU_MSG without info: unknown rather than a half-empty danmaku.
        try EventParser.parse(message: Array(#"{"cmd":"DANMU_MSG"}"#.utf8), into: &events)
        // Wrong types everywhere read as neutral values.
        try EventParser.parse(
            message: Array(#"{"cmd":"DANMU_MSG","info":[null,5,{"a":1},"x",null]}"#.utf8), into: &events)
        XCTAssertEqual(events.map(\.cmd), ["WARNING", "RECALL_DANMU_MSG", "", "DANMU_MSG", "DANMU_MSG"])
        XCTAssertEqual(events.map(\.kind), [.warning, .recallDanmaku, .unknown, .unknown, .danmaku])
        XCTAssertThrowsError(try EventParser.parse(message: Array("{\"cmd\":".utf8), into: &events))
    }
}
