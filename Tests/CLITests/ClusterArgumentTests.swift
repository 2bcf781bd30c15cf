import Glibc
import TestSupport
import XCTest

/// `rooms` and `listen --cluster` arguments: bad ones are a message and exit 2; an unreachable Redis exit 1.
final class ClusterArgumentTests: XCTestCase {
    func testBadArgumentsExitTwoWithAMessage() throws {
        let cases: [([String], String)] = [
            (["rooms"], "missing action"),
            (["rooms", "grow", "--cluster", "redis://127.0.0.1:1"], "unknown action"),
            (["rooms", "add", "1"], "--cluster redis://HOST[:PORT][/DB] is required"),
            (["rooms", "add", "--cluster", "redis://127.0.0.1:1"], "at least one room id"),
            (["rooms", "add", "x1", "--cluster", "redis://127.0.0.1:1"], "room id must be a positive integer"),
            (["rooms", "list", "5", "--cluster", "redis://127.0.0.1:1"], "list takes no room ids"),
            (["rooms", "add", "5", "--owners", "--cluster", "redis://127.0.0.1:1"], "--owners applies to list"),
            (["rooms", "list", "--cluster", "redis://example.com"], "IPv4"),
            (["listen", "--cluster", "redis://127.0.0.1:1", "7"], "give no room ids"),
            (["listen", "--node-max-rooms", "5", "7"], "--node-max-rooms applies to --cluster only"),
            (["listen", "--cluster", "redis://127.0.0.1:1", "--lease-ttl", "0.5"], "--lease-ttl must be 1–3600"),
            (["listen", "--cluster", "redis://127.0.0.1:1", "--node-max-rooms", "0"], "--node-max-rooms"),
            (["listen", "--cluster", "http://127.0.0.1"], "redis://"),
        ]
        for (arguments, message) in cases {
            let (ended, _, stderr) = try ChildProcess.run(arguments)
            XCTAssertEqual(ended, .exited(2), "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(message), "\(arguments): expected \(message) in \(stderr)")
        }
    }

    func testUnreachableRedisIsExitOne() throws {
        let (ended, _, stderr) = try ChildProcess.run(
            ["listen", "--cluster", "redis://127.0.0.1:1", "--server", "127.0.0.1:1", "--no-status"])
        XCTAssertEqual(ended, .exited(1), stderr)
        XCTAssertTrue(stderr.contains("cannot reach Redis at 127.0.0.1:1"), stderr)
        let (listed, _, listErr) = try ChildProcess.run(["rooms", "list", "--cluster", "redis://127.0.0.1:1"])
        XCTAssertEqual(listed, .exited(1), listErr)
    }

    func testRoomsAddListRemove() throws {
        let redis: RedisTestServer
        do {
            redis = try RedisTestServer()
        } catch {
            return XCTFail("\(error)")
        }
        defer { redis.stop() }
        let (added, _, addErr) = try ChildProcess.run(["rooms", "add", "3", "1", "2", "--cluster", redis.url])
        XCTAssertEqual(added, .exited(0), addErr)
        XCTAssertTrue(addErr.contains("added 3 room(s)"), addErr)
        let (removed, _, removeErr) = try ChildProcess.run(["rooms", "remove", "2", "9", "--cluster", redis.url])
        XCTAssertEqual(removed, .exited(0), removeErr)
        XCTAssertTrue(removeErr.contains("removed 1 room(s), 1 not there"), removeErr)
        let (listed, out, _) = try ChildProcess.run(["rooms", "list", "--cluster", redis.url])
        XCTAssertEqual(listed, .exited(0))
        XCTAssertEqual(out, "1\n3\n")
        let (_, owners, _) = try ChildProcess.run(["rooms", "list", "--owners", "--cluster", redis.url])
        XCTAssertEqual(owners, "1\t-\n3\t-\n")
    }
}
