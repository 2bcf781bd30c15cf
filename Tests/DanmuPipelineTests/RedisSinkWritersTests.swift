import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// Several RedisSink writers on one stream (a cluster's nodes): each keeps its own in-doubt token, so one
/// writer's check never reads another's (issue 14).
final class RedisSinkWritersTests: XCTestCase {
    private var reactor: Reactor!

    override func setUpWithError() throws {
        reactor = try Reactor()
        try reactor.start()
    }

    override func tearDown() {
        reactor.shutdown()
    }

    private func sink(_ server: RedisTestServer, writer: String, replyTimeout: Duration) throws -> RedisSink {
        RedisSink(
            url: try RedisURL(parsing: "redis://127.0.0.1:\(server.port)?stream=s&maxlen=0&writer=\(writer)"),
            reactor: reactor, replyTimeout: replyTimeout)
    }

    /// Writer A's batch is applied while Redis is stopped past A's reply timeout, so A is in doubt; writer B
    /// writes meanwhile. A's retry of the same records must find its own token, not B's, and skip them: with one
    /// token key per stream it read B's token, missed, and wrote its batch a second time.
    func testOneWriterInDoubtWhileAnotherWritesNoDuplicate() throws {
        let server = try RedisTestServer(persistent: false)
        defer { server.stop() }
        let a = try sink(server, writer: "node-a", replyTimeout: .milliseconds(300))
        let b = try sink(server, writer: "node-b", replyTimeout: .seconds(10))
        defer {
            a.close()
            b.close()
        }
        try a.write([record(room: 1, seq: 1)])
        try b.write([record(room: 2, seq: 1)])

        let batch = (2...4).map { record(room: 1, seq: $0) }
        // Stopped, Redis leaves A's bytes in its socket buffer; A gives up waiting, and Redis applies the batch
        // once it runs again (it reads and executes what arrived before A's close).
        kill(server.pid, SIGSTOP)
        XCTAssertThrowsError(try a.write(batch)) { error in
            XCTAssertTrue("\(error)".contains("no reply"), "\(error)")
        }
        kill(server.pid, SIGCONT)
        XCTAssertTrue(
            waitFor(timeout: .seconds(10)) { server.cli(["XLEN", "s"]).output == "5\n" },
            "Redis applied the batch A is in doubt about")

        try b.write([record(room: 2, seq: 2)])
        try a.write(batch)  // the runner's retry: the same records
        try a.write([record(room: 1, seq: 5)])

        XCTAssertEqual(
            server.idStrs("s"), ["id-1-1", "id-2-1", "id-1-2", "id-1-3", "id-1-4", "id-2-2", "id-1-5"],
            "every record once, in the order Redis applied them")
    }
}
