import Glibc
import TestSupport
import XCTest

/// Two `listen --cluster` nodes started with one `--spool-dir`: the Redis sink's spool is named by the server,
/// so both would append to, truncate and replay one file. The second node must refuse at start (exit 2, before
/// it joins the cluster), naming the file and the holder; once the first has stopped, a new node starts.
final class ClusterSpoolClashTests: XCTestCase {
    func testASecondNodeOnTheSameSpoolDirRefusesUntilTheFirstStops() throws {
        let redis: RedisTestServer
        do {
            redis = try RedisTestServer()
        } catch {
            XCTFail("\(error)")
            throw error
        }
        defer { redis.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (added, _, addErr) = try ChildProcess.run(["rooms", "add", "--cluster", redis.url, "1", "2", "3"])
        XCTAssertEqual(added, .exited(0), addErr)
        // No live server: the rooms retry their connect; what matters here is the pipeline's start.
        let arguments = [
            "listen", "--cluster", redis.url, "--server", "127.0.0.1:1", "--lease-ttl", "3", "--no-status",
            "--sink", redis.url + "?stream=all", "--spool-dir", directory.path,
        ]
        let spool = directory.path + "/danmu-redis-127.0.0.1-\(redis.port)-0.spool"

        let first = try ChildProcess(arguments)
        defer { first.send(SIGKILL) }
        XCTAssertTrue(first.pump(seconds: 20) { $0.stderrText.contains(" joined") }, first.stderrText)

        let second = try ChildProcess(arguments)
        XCTAssertEqual(second.finish(seconds: 20), .exited(2), second.stderrText)
        XCTAssertTrue(second.stderrText.contains(spool), "names the file: \(second.stderrText)")
        XCTAssertTrue(second.stderrText.contains("pid \(first.pid) on "), "names the holder: \(second.stderrText)")
        XCTAssertFalse(second.stderrText.contains(" joined"), "refused before it joined: \(second.stderrText)")

        first.send(SIGTERM)
        XCTAssertEqual(first.finish(seconds: 20), .exited(0), first.stderrText)
        let third = try ChildProcess(arguments)
        defer { third.send(SIGKILL) }
        XCTAssertTrue(third.pump(seconds: 20) { $0.stderrText.contains(" joined") }, third.stderrText)
        third.send(SIGTERM)
        XCTAssertEqual(third.finish(seconds: 20), .exited(0), third.stderrText)
    }
}
