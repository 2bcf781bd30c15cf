import DanmuCodecs
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// The JSON Lines schema, frozen: one line per event kind, written from a real fixture body, compared byte for
/// byte with `Fixtures/golden/events.jsonl`; and each kind's key set, compared with
/// `Fixtures/golden/event-keys.txt`, which every sample of that kind must also have (a field that is absent
/// is written as null, never dropped). A change to either is a schema change that downstream consumers see.
///
/// To update after an intended change: `DANMU_UPDATE_GOLDEN=1 swift test --filter EventJSONLinesGoldenTests`
/// rewrites both files and FAILS (so an update can never pass CI unnoticed); review `git diff Fixtures/golden`,
/// then run again without the variable. (The golden files live under Fixtures/ because a file inside a test
/// target's directory is an unhandled resource, a SwiftPM warning.)
final class EventJSONLinesGoldenTests: XCTestCase {
    static let linesPath = "Fixtures/golden/events.jsonl"
    static let keysPath = "Fixtures/golden/event-keys.txt"
    static let room: Int64 = 14_073_662
    static let receivedAt: Int64 = 1_700_000_000_123_456_789

    /// Where each kind's golden line comes from: a sample body (Fixtures/samples) or a capture (Fixtures/captures,
    /// decoded as a TCP stream), and the first event of that kind in it.
    static let sources: [(EventKind, String)] = [
        (.danmaku, "samples/DANMU_MSG.ubw-2024-03.json"),
        (.gift, "samples/SEND_GIFT.capture-sunkey-2021-01.json"),
        (.combo, "samples/COMBO_SEND.bac-doc.json"),
        (.superChat, "samples/SUPER_CHAT_MESSAGE.bac-doc.json"),
        (.superChatDelete, "samples/SUPER_CHAT_MESSAGE_DELETE.bac-doc.json"),
        (.guardBuy, "samples/GUARD_BUY.bac-doc.json"),
        (.userToast, "samples/USER_TOAST_MSG.bac-doc.json"),
        (.interact, "samples/INTERACT_WORD.capture-dengzixu-2021-04.json"),
        (.likeClick, "samples/LIKE_INFO_V3_CLICK.bac-doc.json"),
        (.likeUpdate, "samples/LIKE_INFO_V3_UPDATE.bac-doc.json"),
        (.watchedChange, "samples/WATCHED_CHANGE.capture-ubw-2024.json"),
        (.onlineRankCount, "samples/ONLINE_RANK_COUNT.capture-ubw-2024.json"),
        (.live, "samples/LIVE.capture-champkeh-2022-07.json"),
        (.preparing, "samples/PREPARING.1.bac-doc.json"),
        (.roomChange, "samples/ROOM_CHANGE.1.bac-doc.json"),
        (.warning, "samples/WARNING.bac-doc.json"),
        (.loginNotice, "samples/LOG_IN_NOTICE.bac-doc.json"),
        (.onlineRank, "samples/ONLINE_RANK_V3.bac-doc.json"),
        (.entryEffect, "samples/ENTRY_EFFECT.bac-doc.json"),
        (.notice, "samples/NOTICE_MSG.bac-doc.json"),
        (.commonNotice, "samples/COMMON_NOTICE_DANMAKU.bac-doc.json"),
        (.hotRoomNotify, "samples/HOT_ROOM_NOTIFY.built-from-doc.json"),
        (.widgetBanner, "samples/WIDGET_BANNER.bac-doc.json"),
        (.stopLiveRoomList, "samples/STOP_LIVE_ROOM_LIST.bac-doc.json"),
        (.superChatEntrance, "samples/SUPER_CHAT_ENTRANCE.bac-doc.json"),
        (.dmInteraction, "samples/DM_INTERACTION.bac-doc.json"),
        (.recallDanmaku, "samples/RECALL_DANMU_MSG.bac-doc.json"),
        (.roomBlock, "samples/ROOM_BLOCK_MSG.bac-doc.json"),
        (.roomSilent, "samples/ROOM_SILENT_ON.bac-doc.json"),
        (.redPocket, "samples/POPULARITY_RED_POCKET_START.bac-doc.json"),
        (.pkBattle, "samples/PK_BATTLE_PROCESS_NEW.built-from-doc.json"),
        (.anchorLot, "samples/ANCHOR_LOT_START.bac-doc.json"),
        (.popularity, "captures/sunkey_2021-01_s2c_op3_heartbeat_reply.bin"),
        (.authReply, "captures/sunkey_2021-01_s2c_op8_auth_reply.bin"),
        (.unknown, "samples/SYS_MSG.bac-doc.json"),
    ]

    /// The events of a fixture: a sample body parsed as one message, or a capture decoded frame by frame.
    static func events(_ source: String) throws -> [DanmuEvent] {
        let bytes = TestFiles.mustRead("Fixtures/" + source)
        var events: [DanmuEvent] = []
        if source.hasPrefix("samples/") {
            try EventParser.parse(message: bytes, into: &events)
        } else {
            var frames = FrameDecoder()
            var messages = MessageDecoder()
            for frame in try frames.feed(bytes) { try messages.decode(frame, into: &events) }
        }
        return events
    }

    static func line(_ event: DanmuEvent) -> [UInt8] {
        var writer = JSONWriter()
        writeJSONLine(room: room, receivedAt: receivedAt, event: event, into: &writer)
        return writer.bytes
    }

    /// The top-level keys of one line, in order.
    static func keys(_ line: [UInt8]) throws -> [String] {
        let root = try JSONDocument(parsing: Array(line.dropLast())).root
        return root.members.map(\.0)
    }

    /// Regenerates both golden texts from the fixtures.
    static func generate() throws -> (lines: [UInt8], keys: [UInt8]) {
        var lines: [UInt8] = []
        var keys = ""
        for (kind, source) in sources {
            guard let event = try events(source).first(where: { $0.kind == kind }) else {
                XCTFail("\(source) has no \(kind.rawValue) event")
                continue
            }
            let line = line(event)
            lines += line
            keys += kind.rawValue + ": " + (try Self.keys(line)).joined(separator: " ") + "\n"
        }
        return (lines, Array(keys.utf8))
    }

    func testEveryKindHasAGoldenSource() {
        XCTAssertEqual(
            Self.sources.map(\.0.rawValue).sorted(), EventKind.allCases.map(\.rawValue).sorted(),
            "a new kind needs a golden line: add it to sources and update the golden files")
    }

    func testLinesMatchTheGoldenFileByteForByte() throws {
        let (lines, keys) = try Self.generate()
        if getenv("DANMU_UPDATE_GOLDEN") != nil {
            try Self.write(lines, to: Self.linesPath)
            try Self.write(keys, to: Self.keysPath)
            XCTFail("golden files rewritten: review `git diff Fixtures/golden`, then rerun without DANMU_UPDATE_GOLDEN")
            return
        }
        let golden = TestFiles.read(Self.linesPath)
        XCTAssertNotNil(golden, "missing \(Self.linesPath): generate it with DANMU_UPDATE_GOLDEN=1")
        let want = (golden ?? []).split(separator: 10, omittingEmptySubsequences: false)
        let got = lines.split(separator: 10, omittingEmptySubsequences: false)
        XCTAssertEqual(got.count, want.count, "line count")
        for (index, (a, b)) in zip(got, want).enumerated() where a != b {
            XCTFail(
                "line \(index + 1) (\(Self.sources[min(index, Self.sources.count - 1)].0.rawValue)) differs:\n"
                    + "   now: \(String(decoding: a, as: UTF8.self))\ngolden: \(String(decoding: b, as: UTF8.self))")
        }
        XCTAssertTrue(lines == golden, "not byte for byte: \(lines.count) bytes now, \(golden?.count ?? 0) golden")
        XCTAssertEqual(
            String(decoding: keys, as: UTF8.self),
            String(decoding: TestFiles.read(Self.keysPath) ?? [], as: UTF8.self), "key sets per kind")
    }

    /// Every event of every sample and capture has exactly its kind's golden key set, in the same order.
    func testEverySampleOfAKindHasTheGoldenKeySet() throws {
        let text = String(
            decoding: try XCTUnwrap(TestFiles.read(Self.keysPath), "missing \(Self.keysPath)"),
            as: UTF8.self)
        var golden: [String: [String]] = [:]
        for row in text.split(separator: "\n") {
            let parts = row.split(separator: ":", maxSplits: 1)
            golden[String(parts[0])] = parts.count > 1 ? parts[1].split(separator: " ").map(String.init) : []
        }
        var checked: [String: Int] = [:]
        var files = TestFiles.list("Fixtures/samples").filter { $0.hasSuffix(".json") && !$0.hasPrefix("http_") }
            .map { "samples/" + $0 }
        files += TestFiles.list("Fixtures/captures").filter { $0.hasSuffix(".bin") && $0.contains("_s2c_") }
            .map { "captures/" + $0 }
        for file in files {
            for event in try Self.events(file) {
                let keys = try Self.keys(Self.line(event))
                XCTAssertEqual(keys, golden[event.kind.rawValue], "\(file): \(event.kind.rawValue)")
                checked[event.kind.rawValue, default: 0] += 1
            }
        }
        XCTAssertEqual(Set(checked.keys), Set(EventKind.allCases.map(\.rawValue)), "every kind checked: \(checked)")
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let full = TestFiles.resolve(path)
        mkdir(TestFiles.resolve("Fixtures/golden"), 0o755)
        guard let file = fopen(full, "wb") else { throw WriteFailure(path: full, errno: errno) }
        defer { fclose(file) }
        XCTAssertEqual(fwrite(bytes, 1, bytes.count, file), bytes.count, "writing \(full)")
    }

    struct WriteFailure: Error { var path: String; var errno: Int32 }
}
