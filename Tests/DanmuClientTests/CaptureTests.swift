import TestSupport
import XCTest
@testable import DanmuClient

/// Every real server capture decodes to the cmds its file name says (Fixtures/captures/README.md).
final class CaptureTests: XCTestCase {
    static let expectations: [(file: String, cmds: [String])] = [
        ("bac_2022-07_s2c_op3_heartbeat_reply_with_echo", ["HEARTBEAT_REPLY"]),
        ("bac_2023-01_s2c_op5_ver3_brotli_WATCHED_CHANGE", ["WATCHED_CHANGE"]),
        ("bac_2023-01_s2c_op8_auth_reply", ["AUTH_REPLY"]),
        ("champkeh_2022-07_s2c_op5_ver3_brotli_LIVE_a", ["LIVE"]),
        ("champkeh_2022-07_s2c_op5_ver3_brotli_LIVE_b", ["LIVE"]),
        ("champkeh_2022-07_s2c_op5_ver3_brotli_WATCHED_CHANGE", ["WATCHED_CHANGE"]),
        ("dengzixu_2021-04_s2c_op5_ver2_zlib_2x_INTERACT_WORD", ["INTERACT_WORD", "INTERACT_WORD"]),
        ("dengzixu_2021-04_s2c_op5_ver2_zlib_DANMU_MSG_medal", ["DANMU_MSG"]),
        ("dengzixu_2021-04_s2c_op5_ver2_zlib_DANMU_MSG_nomedal", ["DANMU_MSG"]),
        ("dengzixu_2021-04_s2c_op5_ver2_zlib_INTERACT_WORD_medal", ["INTERACT_WORD"]),
        ("sunkey_2021-01_s2c_op3_heartbeat_reply", ["HEARTBEAT_REPLY"]),
        (
            "sunkey_2021-01_s2c_op5_ver2_zlib_8pkts",
            [
                "INTERACT_WORD", "INTERACT_WORD", "ONLINE_RANK_COUNT", "DANMU_MSG", "LIVE_INTERACTIVE_GAME",
                "DANMU_MSG",
                "LIVE_INTERACTIVE_GAME", "SEND_GIFT",
            ]
        ),
        ("sunkey_2021-01_s2c_op5_ver2_zlib_INTERACT_WORD", ["INTERACT_WORD"]),
        ("sunkey_2021-01_s2c_op8_auth_reply", ["AUTH_REPLY"]),
        ("ubw_2024_s2c_op5_ver3_brotli_ONLINE_RANK_COUNT", ["ONLINE_RANK_COUNT"]),
        ("ubw_2024_s2c_op5_ver3_brotli_WATCHED_CHANGE", ["WATCHED_CHANGE"]),
    ]

    static func capture(_ stem: String) -> [UInt8] { TestFiles.mustRead("Fixtures/captures/\(stem).bin") }

    /// Frames → events through a fresh FrameDecoder + MessageDecoder, feeding `chunks`.
    static func events(of chunks: [[UInt8]]) throws -> [DanmuEvent] {
        var frames = FrameDecoder()
        var messages = MessageDecoder()
        var events: [DanmuEvent] = []
        for chunk in chunks {
            for frame in try frames.feed(chunk) { try messages.decode(frame, into: &events) }
        }
        XCTAssertEqual(messages.statistics.malformedMessages, 0)
        return events
    }

    func testTheTableCoversEveryServerCapture() {
        let onDisk = Set(
            TestFiles.list("Fixtures/captures").filter { $0.contains("_s2c_") && $0.hasSuffix(".bin") }
                .map { String($0.dropLast(4)) })
        XCTAssertEqual(onDisk, Set(Self.expectations.map(\.file)))
    }

    func testEveryCaptureDecodesToTheCmdsItsNameSays() throws {
        for (file, cmds) in Self.expectations {
            let events = try Self.events(of: [Self.capture(file)])
            XCTAssertEqual(events.map(\.cmd), cmds, file)
        }
    }

    func testHeartbeatReplyWithEchoGivesPopularity2466() throws {
        let events = try Self.events(of: [Self.capture("bac_2022-07_s2c_op3_heartbeat_reply_with_echo")])
        XCTAssertEqual(events, [.popularity(2466)])
        let sunkey = try Self.events(of: [Self.capture("sunkey_2021-01_s2c_op3_heartbeat_reply")])
        XCTAssertEqual(sunkey, [.popularity(22_785_691)])
    }

    func testCapturedFieldsSpotCheck() throws {
        let events = try Self.events(of: [Self.capture("sunkey_2021-01_s2c_op5_ver2_zlib_8pkts")])
        guard case .gift(let gift) = events.last else { return XCTFail("\(events.last!)") }
        XCTAssertFalse(gift.giftName.isEmpty)
        XCTAssertGreaterThan(gift.uid, 0)
        let medal = try Self.events(of: [Self.capture("dengzixu_2021-04_s2c_op5_ver2_zlib_DANMU_MSG_medal")])
        guard case .danmaku(let d) = medal.first else { return XCTFail() }
        XCTAssertEqual(d.text, "下午好")
        XCTAssertEqual(d.uid, 4_283_693)
        XCTAssertEqual(d.guardLevel, 0)  // info[7]; the 3 is the medal's guard level (info[3][10])
        XCTAssertEqual(
            d.medal,
            Medal(
                name: "北极猫", level: 25, anchorRoomID: 3_080_147, anchorUID: 25_644_004,
                anchorName: "冬月の北极猫", guardLevel: 3, isLighted: true, color: 398_668))
        XCTAssertEqual(d.userLevel, 51)
        XCTAssertNil(d.idStr)  // 2021: no info[0][15]
        let nomedal = try Self.events(of: [Self.capture("dengzixu_2021-04_s2c_op5_ver2_zlib_DANMU_MSG_nomedal")])
        guard case .danmaku(let n) = nomedal.first else { return XCTFail() }
        XCTAssertNil(n.medal)
        let watched = try Self.events(of: [Self.capture("bac_2023-01_s2c_op5_ver3_brotli_WATCHED_CHANGE")])
        XCTAssertEqual(watched, [.watchedChange(WatchedChange(num: 22097, textSmall: "2.2万", textLarge: "2.2万人看过"))])
        let rank = try Self.events(of: [Self.capture("ubw_2024_s2c_op5_ver3_brotli_ONLINE_RANK_COUNT")])
        guard case .onlineRankCount(let r) = rank.first else { return XCTFail() }
        XCTAssertEqual(r.count, 1028)
    }

    /// All server captures as one TCP stream, split at random points (and one byte at a time),
    /// must give exactly the events of decoding them whole — including across the heartbeat echo.
    func testConcatenatedStreamInRandomSplitsGivesTheSameEvents() throws {
        let stream = Self.expectations.flatMap { Self.capture($0.file) }
        let expected = try Self.events(of: [stream])
        XCTAssertEqual(expected.map(\.cmd), Self.expectations.flatMap(\.cmds))
        XCTAssertEqual(try Self.events(of: stream.map { [$0] }), expected, "one byte at a time")
        var random = SplitMixRandom(seed: 0xDA_4D_0001)
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                let size = Int(random.next() % 97) + 1
                let end = min(stream.count, offset + size)
                chunks.append(Array(stream[offset..<end]))
                offset = end
            }
            XCTAssertEqual(try Self.events(of: chunks), expected)
        }
    }
}
