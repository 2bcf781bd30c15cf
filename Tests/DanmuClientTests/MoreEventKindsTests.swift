import DanmuCodecs
import TestSupport
import XCTest

@testable import DanmuClient

/// Issue 16 "More typed events": each new kind, its fields read off a real body (Fixtures/samples, origins in
/// its README). PK_BATTLE_* and HOT_ROOM_NOTIFY have no real body in Fixtures/ or ../shared/fixtures: their
/// samples are `built-from-doc` (shapes from no1xsyzy/ubw's models, see the README).
final class MoreEventKindsTests: XCTestCase {
    private func single(_ file: String) throws -> DanmuEvent { try SampleTests.single(file) }

    private func line(_ event: DanmuEvent) -> String {
        var writer = JSONWriter()
        writeJSONLine(room: 1, receivedAt: 0, event: event, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    func testOnlineRankV3ProtobufMatchesTheV2Shape() throws {
        guard case .onlineRank(let v3) = try single("ONLINE_RANK_V3.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(v3.cmd, "ONLINE_RANK_V3")
        XCTAssertEqual(v3.rankType, "online_rank")
        XCTAssertEqual(v3.list.count, 7)
        XCTAssertEqual(v3.list.first?.uid, 22_136_636)
        XCTAssertEqual(v3.list.first?.uname, "希尔娜娜")
        XCTAssertEqual(v3.list.first?.score, "12")
        XCTAssertEqual(v3.list.first?.rank, 1)
        XCTAssertEqual(v3.list.first?.guardLevel, 1)
        XCTAssertEqual(v3.list.map(\.rank), [1, 2, 3, 4, 5, 6, 7])
        guard case .onlineRank(let v2) = try single("ONLINE_RANK_V2.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(v2.rankType, "gold-rank")
        XCTAssertEqual(v2.list.map(\.uname), ["8级萌新_小华", "属官一号", "露萌不要雨草"])
        XCTAssertEqual(v2.list.map(\.score), ["20", "20", "12"])
        // A pb that is not protobuf: delivered as .unknown, not dropped.
        var events: [DanmuEvent] = []
        try EventParser.parse(message: Array(#"{"cmd":"ONLINE_RANK_V3","data":{"pb":"/////w=="}}"#.utf8), into: &events)
        XCTAssertEqual(events.map(\.kind), [.unknown])
    }

    func testEntryEffectAndMustReceive() throws {
        guard case .entryEffect(let e) = try single("ENTRY_EFFECT.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(e.uid, 31_382_283)
        XCTAssertEqual(e.uname, "WYCBat")
        XCTAssertFalse(e.isNameMasked)
        XCTAssertEqual(e.targetID, 12_892_411)
        XCTAssertEqual(e.copyWriting, "<%WYCBat%> 来了")
        XCTAssertEqual(e.wealthLevel, 17)
        XCTAssertEqual(e.triggerTime, 1_748_545_763_327_647_435)
        guard case .entryEffect(let m) = try single("ENTRY_EFFECT_MUST_RECEIVE.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(m.cmd, "ENTRY_EFFECT_MUST_RECEIVE")
        XCTAssertEqual(m.uname, "weatfe")
        XCTAssertEqual(m.uid, m.targetID, "the anchor entering the own room")
        XCTAssertEqual(m.wealthLevel, 5)
        // Without uinfo (pre-2023 shape) the name comes from copy_writing's markers.
        XCTAssertEqual(EntryEffect.nameInMarkers("欢迎舰长 <%某人%> 进入直播间"), "某人")
        XCTAssertEqual(EntryEffect.nameInMarkers("no markers"), "")
    }

    func testNoticeCommonNoticeHotRoomWidgetBannerStopListSCEntrance() throws {
        guard case .notice(let n) = try single("NOTICE_MSG.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(n.id, 804)
        XCTAssertEqual(n.name, "人气榜第一名")
        XCTAssertEqual(n.msgType, 1)
        XCTAssertEqual(n.realRoomID, 23_919_301)
        XCTAssertTrue(n.msgCommon.hasPrefix("恭喜主播<%AG超玩会王者荣耀一诺%>"))
        guard case .commonNotice(let c) = try single("COMMON_NOTICE_DANMAKU.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(c.text, "春日限时任务：任务即将结束，抓紧完成获取3元红包奖励吧！未完成任务进度将重置")
        XCTAssertEqual(c.terminals, [1, 2, 3, 4, 5])
        guard case .hotRoomNotify(let h) = try single("HOT_ROOM_NOTIFY.built-from-doc.json") else { return XCTFail() }
        XCTAssertEqual(h.threshold, 10000)
        XCTAssertEqual(h.ttl, 300)
        guard case .widgetBanner(let w) = try single("WIDGET_BANNER.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(w.timestamp, 1_673_684_868)
        XCTAssertEqual(w.widgets.map(\.id), [308])
        XCTAssertEqual(w.widgets.first?.title, "一月限时任务")
        XCTAssertEqual(w.widgets.first?.isAdd, true)
        guard case .stopLiveRoomList(let s) = try single("STOP_LIVE_ROOM_LIST.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(s.roomIDs.count, 59)
        XCTAssertEqual(s.roomIDs.first, 14_507_570)
        guard case .superChatEntrance(let e) = try single("SUPER_CHAT_ENTRANCE.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(e.status, 1)
        XCTAssertEqual(e.broadcastType, 1)
        XCTAssertEqual(e.roomID, 8_618_057, "roomid arrives as a string")
    }

    /// `data.data` is a JSON string: embedded as an object, so a consumer reads `data.question` directly.
    func testDMInteractionEmbedsTheInnerJSON() throws {
        let event = try single("DM_INTERACTION.bac-doc.json")
        guard case .dmInteraction(let d) = event else { return XCTFail() }
        XCTAssertEqual(d.id, 98_014_370_742_272)
        XCTAssertEqual(d.type, 101)
        XCTAssertEqual(d.status, 2)
        let record = try JSONDocument(parsing: Array(line(event).utf8.dropLast())).root
        XCTAssertEqual(record["data"]?.kind, .object)
        XCTAssertEqual(record["data"]?["question"]?.string, "投票")
        XCTAssertEqual(record["data"]?["vote_id"]?.int64, 98_014_370_742_272)
        // Not JSON inside: null, the event still typed.
        var events: [DanmuEvent] = []
        try EventParser.parse(
            message: Array(#"{"cmd":"DM_INTERACTION","data":{"id":1,"type":102,"data":"{"}}"#.utf8), into: &events)
        guard case .dmInteraction(let bad) = events.first else { return XCTFail("\(events)") }
        XCTAssertNil(bad.data)
        XCTAssertTrue(line(events[0]).contains(#""data":null"#))
    }

    func testRecallBlockSilent() throws {
        guard case .recallDanmaku(let r) = try single("RECALL_DANMU_MSG.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(r.recallType, 2)
        XCTAssertEqual(r.targetID, 525_503_743)
        guard case .roomBlock(let b) = try single("ROOM_BLOCK_MSG.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(b.uid, 37_903_025)
        XCTAssertEqual(b.uname, "玉麟珑")
        XCTAssertEqual(b.operatorType, 2)
        guard case .roomSilent(let on) = try single("ROOM_SILENT_ON.bac-doc.json") else { return XCTFail() }
        XCTAssertTrue(on.isOn)
        XCTAssertEqual(on.type, "member")
        XCTAssertEqual(on.level, 1)
        XCTAssertEqual(on.second, 1_651_000_426)
        XCTAssertEqual(DanmuEvent.roomSilent(on).cmd, "ROOM_SILENT_ON")
        guard case .roomSilent(let off) = try single("ROOM_SILENT_OFF.bac-doc.json") else { return XCTFail() }
        XCTAssertFalse(off.isOn)
        XCTAssertEqual(DanmuEvent.roomSilent(off).cmd, "ROOM_SILENT_OFF")
    }

    func testRedPocketStartNewWinnerList() throws {
        guard case .redPocket(let s) = try single("POPULARITY_RED_POCKET_START.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(s.lotID, 2_062_329)
        XCTAssertEqual(s.uid, 181_851_309)
        XCTAssertEqual(s.uname, "毒瘤老肥仔")
        XCTAssertEqual(s.price, 1600)
        XCTAssertEqual(s.danmu, "老板大气！点点红包抽礼物！")
        XCTAssertEqual(s.endTime, 1_650_425_523)
        guard case .redPocket(let n) = try single("POPULARITY_RED_POCKET_NEW.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(n.lotID, s.lotID, "the same lottery")
        XCTAssertEqual(n.uid, 181_851_309)
        XCTAssertEqual(n.price, 20)
        XCTAssertNil(n.danmu)
        guard case .redPocket(let w) = try single("POPULARITY_RED_POCKET_WINNER_LIST.bac-doc.json") else {
            return XCTFail()
        }
        XCTAssertEqual(w.totalNum, 8)
        XCTAssertEqual(w.winners.map(\.uid), [38_554_435, 516_174_930])
        XCTAssertEqual(w.winners.map(\.uname), ["我的0019", "云来海遛鸟大爷"])
        XCTAssertEqual(w.winners.map(\.giftID), [31212, 31212])
    }

    /// No real PK_BATTLE_* body: the built-from-doc samples (see the README).
    func testPKBattleStartProcessEnd() throws {
        guard case .pkBattle(let s) = try single("PK_BATTLE_START_NEW.built-from-doc.json") else { return XCTFail() }
        XCTAssertEqual(s.pkID, 305_002_745)
        XCTAssertEqual(s.pkStatus, 201)
        XCTAssertEqual(s.pkStartTime, 1_661_501_312)
        XCTAssertEqual(s.pkEndTime, 1_661_501_622)
        XCTAssertEqual(s.initInfo?.roomID, 25_570_949)
        XCTAssertNil(s.initInfo?.votes)
        guard case .pkBattle(let p) = try single("PK_BATTLE_PROCESS_NEW.built-from-doc.json") else { return XCTFail() }
        XCTAssertEqual(p.initInfo, .init(roomID: 25_570_949, votes: 120, bestUname: "甲"))
        XCTAssertEqual(p.matchInfo, .init(roomID: 1_604_540, votes: 300, bestUname: "乙"))
        XCTAssertTrue(DanmuEvent.pkBattle(p).textLine.hasSuffix("process: 25570949 120 – 300 1604540"))
        guard case .pkBattle(let e) = try single("PK_BATTLE_END.built-from-doc.json") else { return XCTFail() }
        XCTAssertEqual(e.pkStatus, 401)
        XCTAssertEqual(e.matchInfo?.votes, 300)
    }

    func testAnchorLotStartEndAward() throws {
        guard case .anchorLot(let s) = try single("ANCHOR_LOT_START.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(s.id, 2_553_648)
        XCTAssertEqual(s.awardName, "艺术头像绘制")
        XCTAssertEqual(s.awardNum, 1)
        XCTAssertEqual(s.danmu, "卡宝下午好")
        XCTAssertEqual(s.requireText, "当前主播粉丝勋章至少1级")
        XCTAssertEqual(s.maxTime, 600)
        guard case .anchorLot(let e) = try single("ANCHOR_LOT_END.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(e.id, s.id)
        XCTAssertNil(e.awardName)
        guard case .anchorLot(let a) = try single("ANCHOR_LOT_AWARD.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(a.id, s.id)
        XCTAssertEqual(a.lotStatus, 2)
        XCTAssertEqual(a.awardUsers, [.init(uid: 8_318_700, uname: "桥下念喬")])
    }

    /// Every new kind passes its text through `clean`: a control character in a name cannot reach the terminal.
    func testTextLinesAreSanitized() throws {
        var block = RoomBlock()
        block.uname = "a\u{1B}[2Jb"
        XCTAssertFalse(EventText.line(room: 1, event: .roomBlock(block)).contains("\u{1B}"))
        var notice = CommonNotice()
        notice.text = "x\ny"
        XCTAssertEqual(EventText.line(room: 1, event: .commonNotice(notice)), "[1] common_notice x y")
    }
}

extension PKBattle.Side {
    init(roomID: Int64, votes: Int64?, bestUname: String?) {
        self.init()
        self.roomID = roomID
        self.votes = votes
        self.bestUname = bestUname
    }
}

extension AnchorLot.Winner {
    init(uid: Int64, uname: String) {
        self.init()
        self.uid = uid
        self.uname = uname
    }
}

extension DanmuEvent {
    fileprivate var textLine: String { EventText.line(room: 0, event: self) }
}

/// `dm_v2` fallback for the danmaku text. Every real DANMU_MSG sample here has `"dm_v2": ""`, so the payload is
/// built from the documented field map (DanmakuV2.swift: 1 id_str, 6 text, 20 user) around the real
/// DANMU_MSG.ubw-2024-03.json body with its text emptied.
final class DanmakuV2FallbackTests: XCTestCase {
    private func danmaku(text: String, content: String, dmV2: String) throws -> Danmaku {
        var body = String(decoding: TestFiles.mustRead("Fixtures/samples/DANMU_MSG.ubw-2024-03.json"), as: UTF8.self)
        body = body.replacingOccurrences(of: #""dm_v2": """#, with: #""dm_v2": "\#(dmV2)""#)
        body = body.replacingOccurrences(of: #""......""#, with: "\"\(text)\"")
        body = body.replacingOccurrences(of: #"\"content\":\"......\""#, with: #"\"content\":\"\#(content)\""#)
        var events: [DanmuEvent] = []
        try EventParser.parse(message: Array(body.utf8), into: &events)
        guard case .danmaku(let d) = events.first else {
            XCTFail("not a danmaku: \(events)")
            return Danmaku()
        }
        return d
    }

    func testTextFromDmV2WhenInfoAndExtraAreEmpty() throws {
        let pb =
            ProtoWriter.bytes(1, Array("1ff943b6b581c71a6207c5329965fa8488".utf8))
            + ProtoWriter.bytes(6, Array("来自 dm_v2".utf8))
            + ProtoWriter.bytes(20, ProtoWriter.varint(1, 3_546_571_385_866_489))
        let v2 = Base64.encode(pb)
        XCTAssertEqual(try danmaku(text: "", content: "", dmV2: v2).text, "来自 dm_v2")
        XCTAssertEqual(try danmaku(text: "info", content: "", dmV2: v2).text, "info", "info[1] wins")
        XCTAssertEqual(try danmaku(text: "", content: "extra", dmV2: v2).text, "extra", "extra.content next")
        XCTAssertEqual(try danmaku(text: "", content: "", dmV2: "!!").text, "", "not base64: no text, still a danmaku")
        XCTAssertEqual(try danmaku(text: "......", content: "......", dmV2: "").text, "......", "the sample as is")
    }
}
