import Foundation
import TestSupport
import XCTest

/// `danmu-cli listen --api … --top N` against `simulate --api-port`: rooms come from the simulated room list,
/// a room that goes live is added, one that goes offline is removed after the grace period, each change logged.
final class DiscoveryTests: XCTestCase {
    /// Asks the simulator's test control endpoint to set a room live or offline (through curl, as the resolver).
    func setLive(_ room: Int, _ live: Bool, api: UInt16) throws {
        let curl = try ChildProcess(
            ["--silent", "--show-error", "http://127.0.0.1:\(api)/sim/live?room=\(room)&live=\(live ? 1 : 0)"],
            tool: "/usr/bin/curl")
        XCTAssertEqual(curl.finish(seconds: 10), .exited(0), curl.stderrText)
        XCTAssertTrue(curl.stdoutText.hasPrefix(#"{"code":0"#), curl.stdoutText)
    }

    func testTopRoomsFollowTheRoomList() throws {
        let (simulator, _, api) = try startSimulatedSite(["--mix", "danmaku", "--rate", "5"], rooms: 10)
        let listener = try ChildProcess([
            "listen", "--api", "http://127.0.0.1:\(api)", "--top", "3", "--refresh", "1", "--offline-grace", "2s",
            "--format", "jsonl", "--no-status",
        ])
        func danmakuRooms() -> Set<Int64> { Set(danmakuSequences(parseJSONLines(listener.stdoutText)).keys) }
        let first = listener.pump(seconds: 30) { child in
            (1...3).allSatisfy { child.stderrText.contains("room \($0) is live") }
                && Set(danmakuSequences(parseJSONLines(child.stdoutText)).keys) == [1, 2, 3]
        }
        XCTAssertTrue(first, "the three most popular rooms were not followed: \(listener.stderrText)")
        XCTAssertFalse(listener.stderrText.contains("room 4 is live"), listener.stderrText)

        try setLive(2, false, api: api)
        let changed = listener.pump(seconds: 30) { child in
            child.stderrText.contains("room 4 is live (online") && child.stderrText.contains("room 2 off the list")
                && child.stderrText.contains(": removed")
        }
        XCTAssertTrue(changed, "room 4 was not added or room 2 not removed: \(listener.stderrText)")
        let fourFlows = listener.pump(seconds: 20) { _ in danmakuRooms().contains(4) }
        XCTAssertTrue(fourFlows, "no danmaku from the added room 4")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)
        XCTAssertFalse(danmakuRooms().contains(5), "only the top 3 are followed")
    }

    /// --rooms-file is re-read on SIGHUP: rooms added to the file are followed, rooms taken out are dropped.
    func testRoomsFileIsReReadOnSIGHUP() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let simulator = try ChildProcess(
            ["simulate", "--listen", "127.0.0.1:0", "--rooms", "10", "--mix", "danmaku", "--rate", "5"])
        XCTAssertTrue(simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }, simulator.stderrText)
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = try XCTUnwrap(line.split(separator: ":").last.map(String.init), line)
        directory.write("rooms.txt", "1\n2 # two\n")
        let listener = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(port)", "--rooms-file", directory.file("rooms.txt"), "--format",
            "jsonl", "--no-status",
        ])
        func danmakuRooms(_ child: ChildProcess) -> Set<Int64> {
            Set(danmakuSequences(parseJSONLines(child.stdoutText)).keys)
        }
        XCTAssertTrue(listener.pump(seconds: 20) { danmakuRooms($0) == [1, 2] }, listener.stderrText)
        directory.write("rooms.txt", "2\n3\n")
        listener.send(SIGHUP)
        let reloaded = listener.pump(seconds: 20) { child in
            child.stderrText.contains("added 3, removed 1") && danmakuRooms(child).contains(3)
        }
        XCTAssertTrue(reloaded, "the SIGHUP re-read did not add 3 and drop 1: \(listener.stderrText)")
        directory.write("rooms.txt", "2\nnot-a-room\n")
        listener.send(SIGHUP)
        XCTAssertTrue(
            listener.pump(seconds: 10) { $0.stderrText.contains("rooms unchanged") }, "a bad file is reported")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)
    }

    func testDiscoveryOptionsAreValidated() throws {
        let (withServer, _, serverErr) = try ChildProcess.run(["listen", "--server", "127.0.0.1:1", "--top", "3"])
        XCTAssertEqual(withServer, .exited(2))
        XCTAssertTrue(serverErr.contains("--top takes rooms from the site's room list"), serverErr)
        let (alone, _, aloneErr) = try ChildProcess.run(["listen", "--refresh", "5m", "1"])
        XCTAssertEqual(alone, .exited(2))
        XCTAssertTrue(aloneErr.contains("--refresh applies to --top N only"), aloneErr)
        let (bad, _, badErr) = try ChildProcess.run(["listen", "--top", "3", "--refresh", "soon"])
        XCTAssertEqual(bad, .exited(2))
        XCTAssertTrue(badErr.contains("--refresh must be a duration"), badErr)
    }
}
