import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

final class EventJSONLinesTests: XCTestCase {
    static func allSampleEvents() throws -> [DanmuEvent] {
        let files = TestFiles.list("Fixtures/samples").filter { $0.hasSuffix(".json") && !$0.hasPrefix("http_") }
        var events: [DanmuEvent] = []
        for file in files {
            try EventParser.parse(message: TestFiles.mustRead("Fixtures/samples/\(file)"), into: &events)
        }
        return events + [.popularity(2466), .authReply(code: 0)]
    }

    func testEveryLineIsOneJSONObjectWithTheCommonFields() throws {
        let events = try Self.allSampleEvents()
        var writer = JSONWriter()
        for event in events {
            writeJSONLine(room: 14_073_662, receivedAt: 1_700_000_000_123_456_789, event: event, into: &writer)
        }
        let lines = writer.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, events.count + 1)
        XCTAssertEqual(lines.last?.isEmpty, true)
        var kindsSeen = Set<String>()
        for (line, event) in zip(lines, events) {
            let document = try JSONDocument(parsing: Array(line))
            let root = document.root
            XCTAssertEqual(root["room"]?.int64, 14_073_662)
            XCTAssertEqual(root["received_at"]?.int64, 1_700_000_000_123)
            XCTAssertEqual(root["cmd"]?.string, event.cmd)
            XCTAssertEqual(root["kind"]?.string, event.kind.rawValue)
            kindsSeen.insert(event.kind.rawValue)
            if case .unknown(_, let raw) = event {
                XCTAssertEqual(root["raw"]?.kind, .object, "raw is embedded JSON, not a string")
                let embedded = try JSONDocument(parsing: Array(root["raw"]!.rawBytes)).root.toValue()
                XCTAssertEqual(embedded, try JSONDocument(parsing: raw).root.toValue())
            }
        }
        XCTAssertEqual(kindsSeen.count, EventKind.allCases.count - 0, "samples cover every kind: \(kindsSeen)")
    }

    func testDanmakuLineFields() throws {
        let event = try SampleTests.single("DANMU_MSG.emoticon.ubw-2024-04.json")
        var writer = JSONWriter()
        writeJSONLine(room: 81004, receivedAt: 5_000_000, event: event, into: &writer)
        let root = try JSONDocument(parsing: writer.bytes.dropLast().map { $0 }).root
        XCTAssertEqual(root["text"]?.string, "[艾尔莎收藏集_mua]")
        XCTAssertEqual(root["uid"]?.int64, 2_351_778)
        XCTAssertEqual(root["uname"]?.string, "橘枳橼")
        XCTAssertEqual(root["id_str"]?.string, "343a52f34489799508c91605ae6625ef14")
        XCTAssertEqual(root["medal"]?["name"]?.string, "艾薯条")
        XCTAssertEqual(root["medal"]?["level"]?.int64, 29)
        XCTAssertEqual(root["medal"]?["anchor_room_id"]?.int64, 81004)
        XCTAssertEqual(root["guard_level"]?.int64, 3)
        XCTAssertEqual(root["user_level"]?.int64, 25)
        XCTAssertEqual(root["masked"]?.bool, false)
        XCTAssertEqual(root["send_time"]?.int64, 1_713_762_065_361)
        XCTAssertEqual(root["emoticon"]?["width"]?.int64, 20)
        XCTAssertEqual(root["received_at"]?.int64, 5)
    }

    func testGiftLineFields() throws {
        let event = try SampleTests.single("SEND_GIFT.bac-doc.json")
        var writer = JSONWriter()
        writeJSONLine(room: 1, receivedAt: 0, event: event, into: &writer)
        let root = try JSONDocument(parsing: writer.bytes.dropLast().map { $0 }).root
        XCTAssertEqual(root["gift_name"]?.string, "小花花")
        XCTAssertEqual(root["num"]?.int64, 1)
        XCTAssertEqual(root["price"]?.int64, 100)
        XCTAssertEqual(root["coin_type"]?.string, "gold")
        XCTAssertEqual(root["total_coin"]?.int64, 100)
        XCTAssertEqual(root["uid"]?.int64, 510_149_209)
        XCTAssertEqual(root["uname"]?.string, "12138额83121")
        XCTAssertEqual(root["medal"]?.isNull, true)  // all-zero medal_info means none
    }

    func testTextLinesAreSingleLineAndSanitised() throws {
        var danmaku = Danmaku()
        danmaku.uname = "evil\u{1B}]0;title\u{07}"
        danmaku.text = "line1\nline2\r\u{1B}[2J"
        let line = EventText.line(room: 7, event: .danmaku(danmaku))
        XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        XCTAssertEqual(line, "[7] danmaku evil?]0;title?: line1 line2 ?[2J")
        for event in try Self.allSampleEvents() {
            let text = EventText.line(room: 1, event: event)
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.hasPrefix("[1] \(event.kind.rawValue) "), text)
        }
    }
}
