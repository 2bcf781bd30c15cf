import Foundation
import TestSupport
import XCTest

/// Starts `simulate --api-port 0`; returns it with its danmaku and API ports.
func startSimulatedSite(_ extra: [String], rooms: Int) throws -> (ChildProcess, tcp: UInt16, api: UInt16) {
    XCTAssertEqual(access("/usr/bin/curl", X_OK), 0, "curl is missing: run Scripts/ensure-test-deps.sh")
    let simulator = try ChildProcess(
        ["simulate", "--listen", "127.0.0.1:0", "--api-port", "0", "--rooms", "\(rooms)", "--summary"] + extra)
    let ready = simulator.pump(seconds: 10) { $0.stdoutText.contains("api listening on") }
    XCTAssertTrue(ready, "simulator did not print its API address: \(simulator.stderrText)")
    func port(after prefix: String) -> UInt16? {
        let line = simulator.stdoutText.split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line?.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespaces)) }
    }
    return (
        simulator, try XCTUnwrap(port(after: "listening on"), simulator.stdoutText),
        try XCTUnwrap(port(after: "api listening on"), simulator.stdoutText)
    )
}

/// `danmu-cli listen --api` against `danmu-cli simulate --api-port` in another process: the whole resolver path
/// (finger/spi, room_init, nav/WBI, getDanmuInfo, host_list) through the `curl` binary, with no network.
final class ListenAPITests: XCTestCase {
    /// Every danmaku the simulator sends arrives, in order, although the first getDanmuInfo is signed with keys
    /// the simulator has rotated away: the -352 is retried after a new nav, and the log says so.
    func testEveryDanmakuArrivesThroughTheResolverPathAndStaleKeysAreRetried() throws {
        let rooms = 3
        let limit = 15
        let (simulator, _, api) = try startSimulatedSite(
            ["--mix", "danmaku", "--rate", "20", "--limit", "\(limit)", "--rotate-wbi-after-nav", "1"], rooms: rooms)
        let listener = try ChildProcess(
            ["listen", "--api", "http://127.0.0.1:\(api)", "--format", "jsonl", "--no-status"]
                + (1...rooms).map(String.init))
        let danmaku = Array(#""kind":"danmaku""#.utf8)
        let caughtUp = listener.pump(seconds: 45) { child in
            child.stdout.split(separator: 10).count { $0.contains(danmaku) } >= rooms * limit
        }
        XCTAssertTrue(caughtUp, "listener got fewer than \(rooms * limit) danmaku: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)

        let received = danmakuSequences(parseJSONLines(listener.stdoutText))
        for room in 1...Int64(rooms) {
            XCTAssertEqual(received[room] ?? [], Array(1...limit), "room \(room): every danmaku, in order")
        }
        let log = listener.stderrText
        XCTAssertTrue(log.contains("getDanmuInfo"), log)
        XCTAssertTrue(log.contains("code -352") && log.contains("WBI keys dropped"), "the retry is logged: \(log)")
        let summary = try XCTUnwrap(summaryObject(simulator.stderrText), simulator.stderrText)
        XCTAssertEqual(intValue(summary["auths_failed"] as Any), 0, "every AUTH carried an issued token")
    }

    /// With the API on, the simulator's AUTH wants a token its getDanmuInfo handed out: `--token` with a made-up
    /// key is refused and no danmaku flows.
    func testMadeUpTokenIsRefused() throws {
        let (simulator, _, api) = try startSimulatedSite(["--mix", "danmaku", "--rate", "20"], rooms: 1)
        let (ended, out, err) = try ChildProcess.run(
            [
                "listen", "--api", "http://127.0.0.1:\(api)", "--token", "not-issued", "--format", "jsonl",
                "--no-status", "--duration", "4", "1",
            ], seconds: 30)
        XCTAssertEqual(ended, .exited(0), err)
        XCTAssertFalse(out.contains(#""kind":"danmaku""#), "a made-up token opened the room")
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)
        let summary = try XCTUnwrap(summaryObject(simulator.stderrText), simulator.stderrText)
        XCTAssertGreaterThan(intValue(summary["auths_failed"] as Any) ?? 0, 0)
    }

    /// The cookie comes from --cookie-file or DANMU_COOKIE; with it, --uid is allowed and the room opens.
    func testCookieFromFileOrEnvironmentAllowsUID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("cookie.txt", "Cookie: SESSDATA=777abc; bili_jct=x\n")
        let (simulator, _, api) = try startSimulatedSite(["--mix", "danmaku", "--rate", "20"], rooms: 2)
        let base = ["listen", "--api", "http://127.0.0.1:\(api)", "--format", "jsonl", "--no-status"]
        let (fromFile, fileOut, fileErr) = try ChildProcess.run(
            base + ["--cookie-file", directory.file("cookie.txt"), "--uid", "777", "--duration", "4", "1"], seconds: 30)
        XCTAssertEqual(fromFile, .exited(0), fileErr)
        XCTAssertTrue(fileOut.contains(#""kind":"danmaku""#), fileErr)
        XCTAssertFalse(fileErr.contains("no login cookie"), "a cookie was given: \(fileErr)")
        setenv("DANMU_COOKIE", "SESSDATA=778abc", 1)
        let fromEnvironment = try ChildProcess(
            base + ["--uid", "778", "--user-agent", "DanmuTest/2", "--duration", "4", "2"])
        unsetenv("DANMU_COOKIE")
        XCTAssertEqual(fromEnvironment.finish(seconds: 30), .exited(0), fromEnvironment.stderrText)
        XCTAssertTrue(fromEnvironment.stdoutText.contains(#""kind":"danmaku""#), fromEnvironment.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)
    }

    func testUIDWithoutCookieAndBadCookieFileAreRefused() throws {
        let (uid, _, uidErr) = try ChildProcess.run(["listen", "--uid", "5", "1"])
        XCTAssertEqual(uid, .exited(2))
        XCTAssertTrue(uidErr.contains("--uid needs the login cookie of that account"), uidErr)
        let (missing, _, missingErr) = try ChildProcess.run(["listen", "--cookie-file", "/nonexistent/cookie", "1"])
        XCTAssertEqual(missing, .exited(2))
        XCTAssertTrue(missingErr.contains("--cookie-file:"), missingErr)
        let (both, _, bothErr) = try ChildProcess.run(["listen", "--cookie", "a=b", "--cookie-file", "/x", "1"])
        XCTAssertEqual(both, .exited(2))
        XCTAssertTrue(bothErr.contains("--cookie and --cookie-file contradict"), bothErr)
    }

    func testAPIMustBeAnHTTPURLAndNotWithServer() throws {
        let (badURL, _, badErr) = try ChildProcess.run(["listen", "--api", "ftp://host", "1"])
        XCTAssertEqual(badURL, .exited(2))
        XCTAssertTrue(badErr.contains("--api must be an http:// or https:// URL"), badErr)
        let (both, _, bothErr) = try ChildProcess.run(
            ["listen", "--api", "http://127.0.0.1:1", "--server", "127.0.0.1:2", "1"])
        XCTAssertEqual(both, .exited(2))
        XCTAssertTrue(bothErr.contains("--api and --server"), bothErr)
    }
}
