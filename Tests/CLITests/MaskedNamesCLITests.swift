import Foundation
import TestSupport
import XCTest

/// Issue 16, end to end: `danmu-cli listen --api` against `danmu-cli simulate --api-port` (the simulator playing
/// the live site). Without a login the danmaku come with uid 0 and masked names (`x***`), as on the live site;
/// with `--cookie-file` and `--uid` the real ones.
final class MaskedNamesCLITests: XCTestCase {
    private func danmakuLines(_ extra: [String], api: UInt16, room: Int, count: Int) throws -> [[String: Any]] {
        let listener = try ChildProcess(
            ["listen", "--api", "http://127.0.0.1:\(api)", "--format", "jsonl", "--no-status"] + extra + ["\(room)"])
        let danmaku = Array(#""kind":"danmaku""#.utf8)
        let enough = listener.pump(seconds: 45) { child in
            child.stdout.split(separator: 10).count { $0.contains(danmaku) } >= count
        }
        XCTAssertTrue(enough, "fewer than \(count) danmaku: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        return parseJSONLines(listener.stdoutText).filter { ($0["kind"] as? String) == "danmaku" }
    }

    func testGuestsSeeMaskedNamesAndALoginTheRealOnes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("cookie.txt", "SESSDATA=777abc; bili_jct=x\n")
        let (simulator, _, api) = try startSimulatedSite(
            ["--mix", "danmaku", "--rate", "50", "--limit", "30"], rooms: 2)
        let guest = try danmakuLines([], api: api, room: 1, count: 30)
        let member = try danmakuLines(
            ["--cookie-file", directory.file("cookie.txt"), "--uid", "777"], api: api, room: 2, count: 30)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)

        XCTAssertEqual(guest.count, 30)
        for line in guest {
            XCTAssertEqual((line["uid"] as? NSNumber)?.int64Value, 0, "\(line)")
            XCTAssertEqual(line["masked"] as? Bool, true, "\(line)")
            XCTAssertTrue((line["uname"] as? String ?? "").hasSuffix("***"), "\(line)")
        }
        XCTAssertTrue(guest.contains { ($0["uname"] as? String ?? "").count > 3 }, "x***: the first character stays")
        XCTAssertEqual(member.count, 30)
        let unmasked = member.filter { ($0["masked"] as? Bool) == false }
        XCTAssertFalse(unmasked.isEmpty, "a login sees real names: \(member.map { $0["uname"] ?? "" })")
        for line in unmasked {
            XCTAssertNotEqual((line["uid"] as? NSNumber)?.int64Value, 0, "\(line)")
            XCTAssertFalse((line["uname"] as? String ?? "").contains("***"), "\(line)")
        }
    }
}
