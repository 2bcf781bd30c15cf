import DanmuClient
import DanmuCodecs
import XCTest

@testable import DanmuPipeline

func danmakuEvent(room: Int64, seq: Int, uid: Int64 = 42, uname: String = "alice", text: String = "hello")
    -> RoomEvent
{
    var d = Danmaku()
    d.uid = uid
    d.uname = uname
    d.text = text
    d.idStr = "id-\(room)-\(seq)"
    d.userHash = "deadbeef"
    return RoomEvent(room: room, receivedAt: Int64(seq) * 1_000_000, event: .danmaku(d))
}

func danmaku(_ event: RoomEvent) -> Danmaku? {
    if case .danmaku(let d) = event.event { return d }
    return nil
}

final class StageTests: XCTestCase {
    func testFilterCombinesCriteria() {
        let events = [
            danmakuEvent(room: 1, seq: 1, uid: 7, text: "hello world"),
            danmakuEvent(room: 1, seq: 2, uid: 8, text: "hello"),
            danmakuEvent(room: 2, seq: 3, uid: 7, text: "hello"),
            danmakuEvent(room: 1, seq: 4, uid: 7, text: "bye"),
            RoomEvent(room: 1, receivedAt: 0, event: .popularity(5)),
        ]
        let filter = FilterStage(kinds: [.danmaku], rooms: [1], textContains: ["hello"], uids: [7])
        XCTAssertEqual(filter.process(events).compactMap { danmaku($0)?.idStr }, ["id-1-1"])
        XCTAssertEqual(FilterStage(kinds: [.popularity]).process(events).count, 1)
        XCTAssertEqual(FilterStage().process(events).count, events.count)
        // An event without a text fails a text criterion.
        XCTAssertEqual(FilterStage(textContains: ["5"]).process([events[4]]).count, 0)
    }

    func testAnonymizeIsStablePerKeyAndDiffersAcrossKeys() throws {
        let a = try AnonymizeStage(key: Array(repeating: 1, count: 16))
        let b = try AnonymizeStage(key: Array(repeating: 2, count: 16))
        let event = danmakuEvent(room: 1, seq: 1, uid: 12345, uname: "alice")
        let first = danmaku(a.process([event])[0])!
        let again = danmaku(a.process([danmakuEvent(room: 9, seq: 5, uid: 12345, uname: "alice")])[0])!
        let other = danmaku(b.process([event])[0])!
        XCTAssertEqual(first.uid, again.uid, "same key, same uid → same pseudonym in any room")
        XCTAssertEqual(first.uname, again.uname)
        XCTAssertNotEqual(first.uid, 12345)
        XCTAssertNotEqual(first.uname, "alice")
        XCTAssertNotEqual(first.uid, other.uid, "another key gives another pseudonym")
        XCTAssertNotEqual(first.userHash, "deadbeef", "the server's CRC32 of the uid must not survive")
        XCTAssertTrue(first.uid > 0 && first.uid < (1 << 53) + 1)
        XCTAssertEqual(a.pseudonym(uid: 0), 0, "the server's masked uid stays masked")
        XCTAssertThrowsError(try AnonymizeStage(key: [1, 2, 3]))
    }

    func testDedupeDropsRepeatsWithinWindowPerRoom() {
        let dedupe = DedupeStage(window: 3)
        let first = dedupe.process((1...3).map { danmakuEvent(room: 1, seq: $0) })
        XCTAssertEqual(first.count, 3)
        // A reconnect replays 2 and 3, then 4 is new.
        let replay = dedupe.process([2, 3, 4].map { danmakuEvent(room: 1, seq: $0) })
        XCTAssertEqual(replay.compactMap { danmaku($0)?.idStr }, ["id-1-4"])
        // Another room's keys are its own.
        XCTAssertEqual(dedupe.process([danmakuEvent(room: 2, seq: 2)]).count, 1)
        // The window is bounded: after 3 newer keys, 1 is forgotten.
        XCTAssertEqual(dedupe.process([5, 6].map { danmakuEvent(room: 1, seq: $0) }).count, 2)
        XCTAssertEqual(dedupe.process([danmakuEvent(room: 1, seq: 1)]).count, 1)
        // Kinds without a key always pass.
        let counts = Array(repeating: RoomEvent(room: 1, receivedAt: 0, event: .popularity(3)), count: 2)
        XCTAssertEqual(dedupe.process(counts).count, 2)
        XCTAssertEqual(dedupe.duplicates, 2)
    }

    func testSampleKeepsOneInNPerRoomAcrossBatches() {
        let sample = SampleStage(every: 3)
        let a = sample.process((0..<4).map { danmakuEvent(room: 1, seq: $0) })
        let b = sample.process(
            (4..<7).map { danmakuEvent(room: 1, seq: $0) } + [RoomEvent(room: 1, receivedAt: 0, event: .popularity(1))])
        XCTAssertEqual((a + b).compactMap { danmaku($0)?.idStr }, ["id-1-0", "id-1-3", "id-1-6"])
        XCTAssertEqual(b.count, 2, "the heartbeat is not a sampled kind and passes")
    }

    func testSinkRecordSurvivesTheSpoolEncoding() {
        var writer = JSONWriter()
        let record = SinkRecord(danmakuEvent(room: 5, seq: 9, text: "弹幕 \"quoted\""), writer: &writer)
        var bytes: [UInt8] = []
        record.encode(into: &bytes)
        XCTAssertEqual(SinkRecord.decode(bytes[...]), record)
        XCTAssertNil(SinkRecord.decode(bytes.dropLast()[...]), "a short payload is refused, not trapped on")
        XCTAssertEqual(record.idStr, "id-5-9")
        XCTAssertEqual(record.uid, 42)
    }
}
