import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// A batch longer than `transactionSize` goes out as several `MULTI … EXEC`, one after the other's reply: what
/// Redis applied is a prefix of the batch, and a retry writes only the rest.
final class RedisSinkTransactionTests: XCTestCase {
    private var reactor: Reactor!

    override func setUpWithError() throws {
        reactor = try Reactor()
        try reactor.start()
    }

    override func tearDown() {
        reactor.shutdown()
    }

    private func sink(_ server: RedisTestServer, _ query: String, replyTimeout: Duration) throws -> RedisSink {
        RedisSink(
            url: try RedisURL(parsing: "redis://127.0.0.1:\(server.port)?\(query)"), reactor: reactor,
            replyTimeout: replyTimeout, transactionSize: 2)
    }

    /// Redis stopped while the first of two transactions waits for its reply: the second is never sent; the
    /// retry of the whole batch finds the first one's token and writes only the last record.
    func testInDoubtAfterTheFirstTransactionRetryWritesOnlyTheRest() throws {
        let server = try RedisTestServer(persistent: false)
        defer { server.stop() }
        let sink = try sink(server, "stream=s&maxlen=0&writer=w", replyTimeout: .milliseconds(300))
        defer { sink.close() }
        try sink.write([record(room: 1, seq: 1)])
        let batch = (2...4).map { record(room: 1, seq: $0) }
        kill(server.pid, SIGSTOP)
        XCTAssertThrowsError(try sink.write(batch))
        kill(server.pid, SIGCONT)
        XCTAssertTrue(
            waitFor(timeout: .seconds(10)) { server.cli(["XLEN", "s"]).output == "3\n" },
            "the first transaction (2 records) was applied, the second never sent: \(server.idStrs("s"))")
        try sink.write(batch)
        XCTAssertEqual(server.idStrs("s"), ["id-1-1", "id-1-2", "id-1-3", "id-1-4"])
    }

    /// The second transaction refused (its per-room key is not a stream): the write fails after the first one
    /// was applied. Once the key is fixed the retry of the same batch writes the refused transaction again,
    /// whole (its XADDs to the global stream had succeeded: Redis does not roll back), and not the first.
    func testRefusedSecondTransactionRetryStartsThere() throws {
        let server = try RedisTestServer(persistent: false)
        defer { server.stop() }
        XCTAssertEqual(server.cli(["SET", "room:2", "not a stream"]).output, "OK\n")
        let sink = try sink(server, "stream=all&room_stream=room:&maxlen=0&writer=w", replyTimeout: .seconds(5))
        defer { sink.close() }
        let batch = [
            record(room: 1, seq: 1), record(room: 1, seq: 2), record(room: 2, seq: 1), record(room: 2, seq: 2),
        ]
        XCTAssertThrowsError(try sink.write(batch)) { error in
            XCTAssertTrue("\(error)".contains("WRONGTYPE"), "\(error)")
        }
        XCTAssertEqual(server.cli(["DEL", "room:2"]).output, "1\n")
        try sink.write(batch)
        XCTAssertEqual(server.idStrs("room:1"), ["id-1-1", "id-1-2"], "the first transaction is not written again")
        XCTAssertEqual(server.idStrs("room:2"), ["id-2-1", "id-2-2"], "nothing lost once the key is fixed")
        XCTAssertEqual(server.idStrs("all"), ["id-1-1", "id-1-2", "id-2-1", "id-2-2", "id-2-1", "id-2-2"])
    }
}
