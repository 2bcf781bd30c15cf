import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// The Redis sink against a real redis-server (Scripts/ensure-test-deps.sh installs it), read back with
/// redis-cli: XLEN / XRANGE, not through our own reader.
final class RedisSinkTests: XCTestCase {
    private var reactor: Reactor!

    override func setUpWithError() throws {
        reactor = try Reactor()
        try reactor.start()
    }

    override func tearDown() {
        reactor.shutdown()
    }

    private func runner(_ url: String, spool: String? = nil) throws -> SinkRunner {
        var c = SinkConfiguration()
        c.maxBatch = 512
        c.memoryBudgetBytes = 64 << 10
        c.spoolPath = spool
        c.retryInitial = .milliseconds(20)
        c.retryMax = .milliseconds(200)
        c.closeTimeout = .milliseconds(500)
        let sink = RedisSink(url: try RedisURL(parsing: url), reactor: reactor, replyTimeout: .seconds(5))
        return try SinkRunner(sink: sink, configuration: c)
    }

    func testPipelinedXADDToGlobalAndPerRoomStreamsInOrder() throws {
        let server = try RedisTestServer(persistent: true)
        defer { server.stop() }
        let runner = try runner("redis://127.0.0.1:\(server.port)?stream=all&room_stream=room:&maxlen=0&publish=live")
        for seq in 1...1000 {
            runner.submit([record(room: 1, seq: seq), record(room: 2, seq: seq)])
        }
        XCTAssertTrue(waitFor { runner.statistics.written == 2000 }, "\(runner.statistics)")
        runner.close()
        XCTAssertEqual(server.cli(["XLEN", "all"]).output, "2000\n")
        XCTAssertEqual(server.idStrs("room:1"), (1...1000).map { "id-1-\($0)" })
        XCTAssertEqual(server.idStrs("room:2"), (1...1000).map { "id-2-\($0)" })
        let all = server.idStrs("all")
        XCTAssertEqual(all.filter { $0.hasPrefix("id-1-") }, (1...1000).map { "id-1-\($0)" })
        let json = server.cli(["XRANGE", "room:1", "-", "+", "COUNT", "1"]).output
        XCTAssertTrue(json.contains("{\"room\":1,\"seq\":1}"), json)
    }

    func testPasswordACLUserAndSelect() throws {
        let server = try RedisTestServer(persistent: true, password: "s3cret")
        defer { server.stop() }
        XCTAssertEqual(server.cli(["ACL", "SETUSER", "danmu", "on", ">p@ss", "~*", "+@all"]).output, "OK\n")
        let byPassword = try runner("redis://s3cret@127.0.0.1:\(server.port)/2?stream=a")
        byPassword.submit([record(room: 1, seq: 1)])
        XCTAssertTrue(waitFor { byPassword.statistics.written == 1 }, "\(byPassword.statistics)")
        byPassword.close()
        let byUser = try runner("redis://danmu:p%40ss@127.0.0.1:\(server.port)/2?stream=a")
        byUser.submit([record(room: 1, seq: 2)])
        XCTAssertTrue(waitFor { byUser.statistics.written == 1 }, "\(byUser.statistics)")
        byUser.close()
        XCTAssertEqual(server.cli(["-n", "2", "XLEN", "a"]).output, "2\n")
        XCTAssertEqual(server.cli(["XLEN", "a"]).output, "0\n", "SELECT 2: nothing in db 0")

        let wrong = try runner("redis://danmu:nope@127.0.0.1:\(server.port)?stream=a")
        wrong.submit([record(room: 1, seq: 3)])
        XCTAssertTrue(waitFor { wrong.statistics.failures > 0 })
        XCTAssertTrue(wrong.statistics.lastError?.contains("handshake") ?? false, "\(wrong.statistics)")
        XCTAssertEqual(wrong.statistics.written, 0)
        wrong.close()
    }

    /// SIGKILL redis-server while records flow, keep it down for 10 s (issue 12's check) while the producer goes on,
    /// then restart it on the same port and data directory: the outage went to the backlog on disk, which drained;
    /// every record is in the stream once, in order.
    func testServerKilledForTenSecondsMidRunNothingLostNothingDuplicated() throws {
        let server = try RedisTestServer(persistent: true)
        defer { server.stop() }
        try withTemporaryDirectory { dir in
            let runner = try runner("redis://127.0.0.1:\(server.port)?stream=all&maxlen=0", spool: dir + "/redis.spool")
            let total = 6000
            // 10 records every 20 ms: ~12 s of input, so records arrive before, during and after the outage.
            let producer = try PosixThread.spawn(name: "producer") {
                for seq in 1...total {
                    runner.submit([record(room: 1, seq: seq)])
                    if seq % 10 == 0 { usleep(20_000) }
                }
            }
            XCTAssertTrue(waitFor { runner.statistics.written > 200 })
            server.kill9()
            XCTAssertTrue(waitFor { runner.statistics.failures > 0 }, "the sink notices the server is gone")
            let down = runner.statistics.written
            usleep(10_000_000)
            let during = runner.statistics
            XCTAssertEqual(during.written, down, "nothing is acknowledged while the server is down")
            XCTAssertGreaterThan(during.backlogBytes, 0, "the outage is in the backlog: \(during)")
            try server.start()
            producer.join()
            XCTAssertTrue(waitFor(timeout: .seconds(60)) { runner.statistics.written == total }, "\(runner.statistics)")
            runner.close()
            let s = runner.statistics
            XCTAssertEqual(s.backlogBytes, 0)
            XCTAssertEqual(s.dropped, 0)
            XCTAssertGreaterThan(s.replayed, 0)
            XCTAssertGreaterThan(s.failures, 0)
            XCTAssertEqual(server.idStrs("all"), (1...total).map { "id-1-\($0)" })
        }
    }

    /// A "server" that answers with a hostile reply: the write fails, the connection is closed, nothing hangs.
    func testHostileReplyFailsThatConnectionCleanly() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, length)
                _ = getsockname(listener, $0, &length)
            }
        }
        listen(listener, 4)
        let port = UInt16(bigEndian: address.sin_port)
        let server = try PosixThread.spawn(name: "hostile") {
            for reply in ["$99999999999\r\n", String(repeating: "*1\r\n", count: 10_000)] {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(client, &buffer, buffer.count)
                _ = reply.withCString { write(client, $0, strlen($0)) }
                usleep(200_000)
                close(client)
            }
        }
        let sink = RedisSink(
            url: try RedisURL(parsing: "redis://127.0.0.1:\(port)"), reactor: reactor, replyTimeout: .seconds(5))
        for expected in ["bulk string", "nested"] {
            XCTAssertThrowsError(try sink.write([record(room: 1, seq: 1)])) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        sink.close()
        server.join()
    }

    /// Replies of the wrong type where the sink expects MULTI's +OK, EXEC's array or a stream ID: each write fails
    /// with what was wrong, and the sink drops that connection (the next write opens a new one) instead of reading
    /// on from a stream it no longer understands.
    func testWrongTypedRepliesFailAndDropTheConnection() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, length)
                _ = getsockname(listener, $0, &length)
            }
        }
        listen(listener, 4)
        let port = UInt16(bigEndian: address.sin_port)
        // One record, so a batch is MULTI, XADD, SET, EXEC: four replies.
        let scenarios: [(reply: String, error: String)] = [
            (":1\r\n:1\r\n:1\r\n:1\r\n", "MULTI refused"),
            ("+OK\r\n+QUEUED\r\n+QUEUED\r\n$3\r\nabc\r\n", "EXEC failed"),
            ("+OK\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n", "EXEC failed"),
        ]
        let server = try PosixThread.spawn(name: "wrong-types") {
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            for scenario in scenarios {
                // Bounded: a sink that kept its connection never comes back for the next scenario.
                var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&waiting, 1, 5_000) == 1 else { return }
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(client, &buffer, buffer.count)  // GET of the in-doubt token
                _ = "$-1\r\n".withCString { write(client, $0, strlen($0)) }
                _ = read(client, &buffer, buffer.count)  // the batch
                _ = scenario.reply.withCString { write(client, $0, strlen($0)) }
                // Wait for the sink to hang up (read returns 0), at most the receive timeout.
                while read(client, &buffer, buffer.count) > 0 {}
                close(client)
            }
        }
        let sink = RedisSink(
            url: try RedisURL(parsing: "redis://127.0.0.1:\(port)?stream=s&maxlen=0"), reactor: reactor,
            replyTimeout: .seconds(2))
        for scenario in scenarios {
            XCTAssertThrowsError(try sink.write([record(room: 1, seq: 1)])) { error in
                XCTAssertTrue("\(error)".contains(scenario.error), "\(scenario.reply): \(error)")
            }
            XCTAssertFalse(sink.isConnected, "\(scenario.reply): the connection is dropped")
        }
        sink.close()
        server.join()
    }
}
