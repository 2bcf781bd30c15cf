import Foundation
import XCTest
@testable import DanmuSimulator
import DanmuClient

final class MessageGeneratorTests: XCTestCase {
    func testDanmakuTemplateFillsEveryHoleWithValidJSON() throws {
        let template = DanmakuTemplate()
        XCTAssertEqual(Set(template.holes), [.sendMs, .unixSeconds, .text, .content, .idStr, .uid, .uname])
        // Every text variant (quotes, backslash, tab, emoji) must survive both levels of escaping.
        for seq in UInt64(1)...UInt64(3 * DanmakuTemplate.defaultTexts.count) {
            var out: [UInt8] = []
            template.append(
                room: 21_144_080, seq: seq, monotonicNs: 123_456_789 + seq, unixMs: 1_710_916_697_432,
                into: &out)
            let decoded = try DecodedDanmaku(body: out)
            XCTAssertEqual(decoded.text, template.text(seq: seq))
            XCTAssertTrue(decoded.text.hasPrefix("#\(seq) "))
            XCTAssertEqual(decoded.content, decoded.text)
            XCTAssertEqual(decoded.id, SimulatedMessageID(room: 21_144_080, seq: seq, sentAtNs: 123_456_789 + seq))
            XCTAssertEqual(decoded.idStr, "sim-21144080-\(seq)-\(123_456_789 + seq)")
            XCTAssertEqual(decoded.sendMs, 1_710_916_697_432)
            XCTAssertTrue(DanmakuTemplate.defaultUsers.contains { $0.0 == decoded.uid && $0.1 == decoded.uname })
        }
    }

    func testTemplateKeepsTheRealSampleAroundTheHoles() throws {
        // Filling the holes with the sample's own values must give back the sample (same JSON value).
        let sample = try parseJSON(try fixtureBytes("samples/DANMU_MSG.ubw-2024-03.json")) as! NSDictionary
        var out: [UInt8] = []
        let template = DanmakuTemplate(texts: ["......"], users: [(3546571385866489, "孤丶独の观测者")])
        template.append(room: 1, seq: 1, monotonicNs: 2, unixMs: 1_710_916_697_432, into: &out)
        let generated = try parseJSON(out) as! NSDictionary
        let info = (generated["info"] as! [Any])
        let sampleInfo = (sample["info"] as! [Any])
        // Everything except info[0] (holds the extra with id_str/content) and info[1] (text) and info[9] (ts).
        for index in sampleInfo.indices where ![0, 1, 9].contains(index) {
            XCTAssertEqual(info[index] as? NSObject, sampleInfo[index] as? NSObject, "info[\(index)]")
        }
        let meta = info[0] as! [Any], sampleMeta = sampleInfo[0] as! [Any]
        for index in sampleMeta.indices where index != 15 {
            XCTAssertEqual(meta[index] as? NSObject, sampleMeta[index] as? NSObject, "info[0][\(index)]")
        }
        let extra = try parseJSON(Array(((meta[15] as! [String: Any])["extra"] as! String).utf8)) as! [String: Any]
        let sampleExtra =
            try parseJSON(Array(((sampleMeta[15] as! [String: Any])["extra"] as! String).utf8))
            as! [String: Any]
        XCTAssertEqual(Set(extra.keys), Set(sampleExtra.keys))
        for key in sampleExtra.keys where !["content", "id_str"].contains(key) {
            XCTAssertEqual(extra[key] as? NSObject, sampleExtra[key] as? NSObject, key)
        }
        XCTAssertEqual((info[9] as! [String: Any])["ct"] as? String, "32C783F7")
        XCTAssertEqual(((info[9] as! [String: Any])["ts"] as? NSNumber)?.int64Value, 1_710_916_697)
    }

    func testStaticBodiesAreTheFixtureSamples() throws {
        XCTAssertEqual(SampleBodies.sourceFiles.count, SampleKind.allCases.count - 1)
        for kind in SampleKind.allCases where kind != .danmaku {
            let body = try XCTUnwrap(kind.staticBody)
            let name = SampleBodies.sourceFiles.first { SampleKindName(kind) == $0.key }
            let file = try XCTUnwrap(name?.value, "\(kind)")
            let expected = try parseJSON(try fixtureBytes("samples/" + file)) as! NSDictionary
            let actual = try parseJSON(Array(body.utf8)) as! NSDictionary
            XCTAssertEqual(actual, expected, file)
            XCTAssertEqual(actual["cmd"] as? String, kind.cmd)
            XCTAssertFalse(body.contains("\n"), "bodies are compact like the server's")
        }
    }

    func testRealisticMixIsSpreadEvenlyAndMatchesWeights() {
        let mix = MessageMix.realistic
        let cycle = mix.cycle()
        XCTAssertEqual(cycle.count, mix.weights.values.reduce(0, +))
        for (kind, weight) in mix.weights {
            XCTAssertEqual(cycle.filter { $0 == kind }.count, weight, "\(kind)")
        }
        // Danmaku (70 %) never has more than 2 other messages in a row between two danmaku.
        var gap = 0, maxGap = 0
        for kind in cycle + cycle {
            if kind == .danmaku { gap = 0 } else { gap += 1; maxGap = max(maxGap, gap) }
        }
        XCTAssertLessThanOrEqual(maxGap, 2)
        XCTAssertEqual(MessageMix.danmakuOnly.cycle(), [.danmaku])
    }

    func testGeneratedPacketsAreValidAndSequenceIsContiguous() throws {
        let generator = MessageGenerator(mix: .realistic)
        var stream = RoomStream(room: 7, cycleLength: generator.cycle.count)
        var out: [UInt8] = []
        var danmaku = 0
        for _ in 0..<30 {
            danmaku += generator.appendMessages(7, stream: &stream, monotonicNs: 99, unixMs: 1000, into: &out)
        }
        let frames = try splitPackets(out)
        XCTAssertEqual(frames.count, 210)
        XCTAssertEqual(stream.messagesSent, 210)
        XCTAssertEqual(UInt64(danmaku), stream.lastSeq)
        var expectedSeq: UInt64 = 1
        var cmds: [String: Int] = [:]
        for frame in frames {
            XCTAssertEqual(frame.header.protover, 0)
            XCTAssertEqual(frame.header.operation, .message)
            XCTAssertEqual(frame.header.sequence, 0)
            let root = try XCTUnwrap(try parseJSON(frame.body) as? [String: Any])
            let cmd = try XCTUnwrap(root["cmd"] as? String)
            cmds[cmd, default: 0] += 1
            if cmd == "DANMU_MSG" {
                let decoded = try DecodedDanmaku(body: frame.body)
                XCTAssertEqual(decoded.id.seq, expectedSeq)
                XCTAssertEqual(decoded.id.room, 7)
                expectedSeq += 1
            }
        }
        XCTAssertEqual(expectedSeq - 1, stream.lastSeq)
        XCTAssertEqual(cmds["DANMU_MSG"], 147)  // 2 full cycles (140) + 10 messages, 7 of them danmaku (smooth spread)
        XCTAssertGreaterThan(cmds.count, 8)
    }

    func testRoomsStartAtDifferentCycleOffsets() {
        let length = MessageMix.realistic.cycle().count
        let offsets = Set((1...50).map { RoomStream(room: Int64($0), cycleLength: length).cyclePosition })
        XCTAssertGreaterThan(offsets.count, 30)
    }

    func testDecimalFormatting() {
        for value: Int64 in [0, 7, 10, 99, 1_000_000, .max, .min, -1] {
            var out: [UInt8] = []
            appendDecimal(value, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(value))
        }
        var out: [UInt8] = []
        appendDecimal(UInt64.max, to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "18446744073709551615")
    }

    func testSimulatedMessageIDParsing() {
        XCTAssertEqual(SimulatedMessageID(idStr: "sim-5-12-3456"), SimulatedMessageID(room: 5, seq: 12, sentAtNs: 3456))
        XCTAssertEqual(SimulatedMessageID(room: 5, seq: 12, sentAtNs: 3456).description, "sim-5-12-3456")
        for bad in [
            "", "sim", "sim-1-2", "sim-1-2-3-4", "1ff943b6b581c71a6207c5329965fa8488", "sim-a-2-3", "sim-1--3",
            "xim-1-2-3", "sim-1-2-18446744073709551616",
        ] {
            XCTAssertNil(SimulatedMessageID(idStr: bad), bad)
        }
    }
}

/// The SampleBodies constant name of a kind (the generator script uses the Swift case names).
private func SampleKindName(_ kind: SampleKind) -> String { "\(kind)" }
