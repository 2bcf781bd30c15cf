import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// Two cluster nodes given one `--spool-dir` share the Redis sink's spool file (it is named by the server):
/// the second runner on a spool must be refused, naming the file and the holder, and the spool must be free
/// again as soon as the first runner is closed (not when it is deallocated).
final class ClusterSpoolLockTests: XCTestCase {
    private func configuration(spool: String) -> SinkConfiguration {
        var c = SinkConfiguration()
        c.spoolPath = spool
        c.retryInitial = .milliseconds(5)
        c.retryMax = .milliseconds(20)
        c.closeTimeout = .milliseconds(200)
        return c
    }

    func testASecondRunnerOnTheSameSpoolIsRefusedUntilTheFirstCloses() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/danmu-redis-127.0.0.1-6379-0.spool"
            let firstSink = RecordingSink(down: true)
            let first = try SinkRunner(sink: firstSink, configuration: configuration(spool: path))
            first.submit((1...20).map { record(room: 1, seq: $0) })
            XCTAssertTrue(waitFor { first.statistics.spooled == 20 }, "\(first.statistics)")

            XCTAssertThrowsError(try SinkRunner(sink: RecordingSink(), configuration: configuration(spool: path))) {
                let message = "\($0)"
                XCTAssertTrue(message.contains(path), message)
                XCTAssertTrue(message.contains("pid \(getpid()) on "), "names the holder: \(message)")
            }
            // The refused opener touched nothing: the holder's backlog is intact.
            XCTAssertEqual(first.statistics.spooled, 20)

            first.close()
            // `first` is still alive here (its statistics are read after close): the lock went with close().
            let secondSink = RecordingSink()
            let second = try SinkRunner(sink: secondSink, configuration: configuration(spool: path))
            XCTAssertTrue(waitFor { second.statistics.written == 20 }, "\(second.statistics)")
            second.close()
            XCTAssertEqual(secondSink.records.map(\.idStr), (1...20).map { "id-1-\($0)" })
            XCTAssertEqual(first.statistics.written, 0)
        }
    }

    /// Another process holds the lock: the message names its pid (read from `<spool>.lock`), and the kernel
    /// drops the lock when that process dies, so a SIGKILLed holder never blocks the next run.
    func testTheHolderIsAnotherProcessAndItsDeathFreesTheSpool() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/shared.spool"
            // flock(1) holds the lock file's lock the way a runner does, and writes what a runner writes; `exec`
            // keeps one process (the pid it wrote) holding the descriptor, so its SIGKILL drops the lock.
            let script =
                "exec 9>>'\(path).lock'; flock -n 9 || exit 3; echo \"pid $$ on test-host\" > '\(path).lock'; "
                + "exec sleep 30"
            let pid = try XCTUnwrap(spawnProcess(["/bin/sh", "-c", script], output: dir + "/holder.out"))
            defer {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            XCTAssertTrue(
                waitFor(timeout: .seconds(10)) {
                    String(decoding: TestFiles.read(path + ".lock") ?? [], as: UTF8.self).contains("pid \(pid) ")
                })
            XCTAssertThrowsError(try SinkRunner(sink: RecordingSink(), configuration: configuration(spool: path))) {
                XCTAssertTrue("\($0)".contains("in use by pid \(pid) on test-host"), "\($0)")
            }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            let runner = try SinkRunner(sink: RecordingSink(), configuration: configuration(spool: path))
            runner.close()
        }
    }
}
