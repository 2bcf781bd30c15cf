import DanmuClient
import DanmuCodecs
import TestSupport
import XCTest

@testable import DanmuPipeline

/// The anonymizer rewrites the uids and names of the kinds added in issue 16 too (entry_effect, room_block,
/// red_pocket, anchor_lot, online_rank, pk_battle), read from the real samples: before, these kinds had no
/// typed fields; once typed, a pseudonymized stream must not leak them.
final class AnonymizeNamedUsersTests: XCTestCase {
    private func event(_ sample: String) throws -> DanmuEvent {
        var events: [DanmuEvent] = []
        try EventParser.parse(message: TestFiles.mustRead("Fixtures/samples/" + sample), into: &events)
        return try XCTUnwrap(events.first, sample)
    }

    private func line(_ event: DanmuEvent) -> String {
        var writer = JSONWriter()
        writeJSONLine(room: 1, receivedAt: 0, event: event, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    func testNoRealUIDOrNameSurvives() throws {
        let stage = try AnonymizeStage(key: Array(repeating: 7, count: 16))
        let cases: [(String, [String])] = [
            ("ENTRY_EFFECT.bac-doc.json", ["31382283", "WYCBat"]),
            ("ROOM_BLOCK_MSG.bac-doc.json", ["37903025", "玉麟珑"]),
            ("POPULARITY_RED_POCKET_START.bac-doc.json", ["181851309", "毒瘤老肥仔"]),
            ("POPULARITY_RED_POCKET_WINNER_LIST.bac-doc.json", ["38554435", "我的0019", "516174930", "云来海遛鸟大爷"]),
            ("ANCHOR_LOT_AWARD.bac-doc.json", ["8318700", "桥下念喬"]),
            ("ONLINE_RANK_V3.bac-doc.json", ["22136636", "希尔娜娜", "7382119"]),
            ("PK_BATTLE_PROCESS_NEW.built-from-doc.json", ["\"甲\"", "\"乙\""]),
        ]
        for (sample, secrets) in cases {
            let original = try event(sample)
            let before = line(original)
            for secret in secrets { XCTAssertTrue(before.contains(secret), "\(sample): \(secret) in the input") }
            let out = stage.process([RoomEvent(room: 1, receivedAt: 0, event: original)])
            let after = line(try XCTUnwrap(out.first).event)
            for secret in secrets { XCTAssertFalse(after.contains(secret), "\(sample): \(secret) leaked: \(after)") }
            XCTAssertEqual(out.first?.event.kind, original.kind)
        }
        // The filter sees the user of these kinds too.
        XCTAssertEqual(EventFields.uid(of: try event("ROOM_BLOCK_MSG.bac-doc.json")), 37_903_025)
        XCTAssertEqual(EventFields.uname(of: try event("ENTRY_EFFECT.bac-doc.json")), "WYCBat")
    }
}
