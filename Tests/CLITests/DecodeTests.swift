import Foundation
import TestSupport
import XCTest

/// `danmu-cli decode` on every committed capture (Fixtures/captures/*.bin), on their concatenation as one
/// TCP stream, and on damaged streams whose errors must name the byte offset.
final class DecodeTests: XCTestCase {
    let captures = TestFiles.repositoryRoot + "/Fixtures/captures"

    func captureFiles() -> [String] {
        let names = TestFiles.list(captures, includingHidden: true)
        return names.filter { $0.hasSuffix(".bin") }.sorted()
    }

    /// What each server→client capture must decode to (from Fixtures/captures/README.md).
    func expectedCommands(_ name: String) -> [String]? {
        if name.contains("_8pkts") {
            return [
                "INTERACT_WORD", "INTERACT_WORD", "ONLINE_RANK_COUNT", "DANMU_MSG", "LIVE_INTERACTIVE_GAME",
                "DANMU_MSG", "LIVE_INTERACTIVE_GAME", "SEND_GIFT",
            ]
        }
        if name.contains("_2x_INTERACT_WORD") { return ["INTERACT_WORD", "INTERACT_WORD"] }
        for cmd in ["DANMU_MSG", "INTERACT_WORD", "ONLINE_RANK_COUNT", "WATCHED_CHANGE", "LIVE"]
        where name.contains("_\(cmd)") {
            return [cmd]
        }
        return nil
    }

    func testDecodeEveryCapture() throws {
        let files = captureFiles()
        XCTAssertGreaterThanOrEqual(files.count, 20, "captures missing from \(captures)")
        for name in files {
            let (ended, out, err) = try ChildProcess.run(["decode", "--format", "jsonl", captures + "/" + name])
            XCTAssertEqual(ended, .exited(0), "\(name): \(err)")
            let lines = parseJSONLines(out)
            for line in lines {
                for field in requiredEventFields {
                    XCTAssertNotNil(line[field], "\(name): \(field) missing in \(line)")
                }
            }
            let commands = lines.map { $0["cmd"] as? String ?? "?" }
            if let expected = expectedCommands(name) {
                XCTAssertEqual(commands, expected, name)
            } else if name.contains("_op3_") {
                XCTAssertEqual(lines.count, 1, name)
                XCTAssertEqual(lines.first?["kind"] as? String, "popularity", name)
                let expected = name.hasPrefix("bac") ? 2466 : 22_785_691
                XCTAssertTrue(out.contains("\(expected)"), "\(name): \(out)")
            } else if name.contains("_op8_") {
                XCTAssertEqual(lines.map { $0["kind"] as? String }, ["auth_reply"], name)
            } else if name.contains("_c2s_") {
                // Client→server packets carry no events; decode says what it skipped.
                XCTAssertEqual(lines.count, 0, name)
                XCTAssertTrue(err.contains("client"), "\(name): \(err)")
            }
            for line in lines where (line["kind"] as? String) == "danmaku" {
                XCTAssertNotNil(line["text"] as? String, name)
                XCTAssertNotNil(line["uid"], name)
                XCTAssertNotNil(line["uname"] as? String, name)
            }
        }
    }

    func testDanmakuTextFormat() throws {
        let file = captures + "/dengzixu_2021-04_s2c_op5_ver2_zlib_DANMU_MSG_medal.bin"
        let (ended, out, err) = try ChildProcess.run(["decode", "--format", "text", file])
        XCTAssertEqual(ended, .exited(0), err)
        XCTAssertEqual(out.split(separator: "\n").count, 1, out)
        let (jsonEnded, json, _) = try ChildProcess.run(["decode", "--format", "jsonl", file])
        XCTAssertEqual(jsonEnded, .exited(0))
        let line = try XCTUnwrap(parseJSONLines(json).first)
        let text = try XCTUnwrap(line["text"] as? String)
        XCTAssertTrue(out.contains(text), "text output \(out) lacks the danmaku text \(text)")
    }

    /// All server→client captures back to back are one valid TCP stream (the op-3 echo bytes included); read
    /// from standard input, it yields exactly the events of the files one by one: the same lines, byte for byte,
    /// in the same order.
    func testConcatenatedStreamFromStdin() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var stream = Data()
        var expected: [Substring] = []
        for name in captureFiles() where name.contains("_s2c_") {
            stream.append(try Data(contentsOf: URL(fileURLWithPath: captures + "/" + name)))
            let (fileEnded, out, err) = try ChildProcess.run(["decode", "--format", "jsonl", captures + "/" + name])
            XCTAssertEqual(fileEnded, .exited(0), "\(name): \(err)")
            expected += out.split(separator: "\n")
        }
        let path = directory.file("stream.bin")
        try stream.write(to: URL(fileURLWithPath: path))
        let (ended, out, err) = try ChildProcess.run(["decode", "--format", "jsonl", "-"], stdinPath: path)
        XCTAssertEqual(ended, .exited(0), err)
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, expected.count)
        for (index, (line, want)) in zip(lines, expected).enumerated() where line != want {
            XCTFail("line \(index + 1) differs:\n  stdin: \(line)\n  files: \(want)")
            break
        }
        XCTAssertGreaterThan(expected.count, 15)
    }

    func testDamagedStreamNamesByteOffset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try Data(contentsOf: URL(fileURLWithPath: captures + "/sunkey_2021-01_s2c_op5_ver2_zlib_8pkts.bin"))

        // A header declaring length 5 right after one good packet.
        var bad = good
        bad.append(contentsOf: [0, 0, 0, 5, 0, 16, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0])
        try bad.write(to: URL(fileURLWithPath: directory.file("bad.bin")))
        let (ended, out, err) = try ChildProcess.run(["decode", "--format", "jsonl", directory.file("bad.bin")])
        XCTAssertEqual(ended, .exited(1), err)
        XCTAssertTrue(err.contains("byte offset \(good.count)"), err)
        XCTAssertEqual(parseJSONLines(out).count, 8, "events before the damage are still printed")

        // A stream cut in the middle of its second packet.
        var cut = good
        cut.append(good.prefix(100))
        try cut.write(to: URL(fileURLWithPath: directory.file("cut.bin")))
        let (cutEnded, _, cutErr) = try ChildProcess.run(["decode", directory.file("cut.bin")])
        XCTAssertEqual(cutEnded, .exited(1), cutErr)
        XCTAssertTrue(cutErr.contains("byte offset \(good.count)"), cutErr)
        XCTAssertTrue(cutErr.contains("truncated"), cutErr)

        // A packet whose zlib body is corrupt.
        var corrupt = good
        corrupt[40] ^= 0xFF
        corrupt[41] ^= 0xFF
        try corrupt.write(to: URL(fileURLWithPath: directory.file("corrupt.bin")))
        let (corruptEnded, _, corruptErr) = try ChildProcess.run(["decode", directory.file("corrupt.bin")])
        XCTAssertEqual(corruptEnded, .exited(1), corruptErr)
        XCTAssertTrue(corruptErr.contains("byte offset 0"), corruptErr)

        let (missingEnded, _, missingErr) = try ChildProcess.run(["decode", directory.file("missing.bin")])
        XCTAssertEqual(missingEnded, .exited(1))
        XCTAssertTrue(missingErr.contains("cannot open"), missingErr)
    }
}
