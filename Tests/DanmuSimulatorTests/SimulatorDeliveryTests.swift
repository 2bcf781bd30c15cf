import Glibc
import TestSupport
import XCTest
import DanmuClient
@testable import DanmuSimulator

/// `Delivery.everyConnection` (the room broadcasts, as the live servers do) against `.oneConnection` (each
/// message to one connection of the room), seen from real clients on 127.0.0.1.
final class SimulatorDeliveryTests: XCTestCase {
    private func broadcasting(
        rate: Double, limit: Int?, batchSize: Int = 10, maxQueued: Int = 4 << 20
    ) -> Simulator.Configuration {
        var configuration = Simulator.Configuration(
            rooms: .range(1...10), ratePerRoom: rate, messageLimitPerRoom: limit, batchSize: batchSize,
            mix: .danmakuOnly, maxQueuedBytesPerConnection: maxQueued)
        configuration.delivery = .everyConnection
        return configuration
    }

    /// `seqs` as runs ("1-40,42-50"): short failure messages, and a gap or a repeat shows at once.
    private func runs(_ seqs: [UInt64]) -> String {
        var parts: [String] = []
        var start: UInt64?
        var previous: UInt64 = 0
        for seq in seqs {
            if let first = start, seq == previous + 1 {
                previous = seq
                _ = first
                continue
            }
            if let first = start { parts.append("\(first)-\(previous)") }
            start = seq
            previous = seq
        }
        if let first = start { parts.append("\(first)-\(previous)") }
        return parts.joined(separator: ",")
    }

    /// Reads until the client holds the danmaku with seq `last` (or `timeout` passes); returns all its danmaku.
    /// Decodes each message once (decoding all of them after every read made a 20,000-message test quadratic).
    private func danmaku(_ client: TestClient, through last: UInt64, timeout: Double = 20) throws -> [DecodedDanmaku] {
        let deadline = SimulatedMessageID.monotonicNow() + UInt64(timeout * 1e9)
        var decoded: [DecodedDanmaku] = []
        while true {
            decoded += client.received[decoded.count...].compactMap(\.danmaku)
            guard decoded.last?.id.seq ?? 0 < last, !client.sawEOF, SimulatedMessageID.monotonicNow() < deadline
            else { break }
            _ = try client.readMessages(1, timeout: 0.5)
        }
        return decoded
    }

    /// Two connections of one room (one plain, one zlib) both get every message from their join on: the same
    /// seq numbers and the same id_str (one emission, two deliveries), and the limit counts the room's messages.
    func testTwoConnectionsOfARoomReceiveTheSameIdStrSequence() throws {
        try withSimulator(broadcasting(rate: 400, limit: 400)) { simulator, port in
            let first = try TestClient(port: port)
            first.sendAuth(room: 3, protover: 2)
            let early = try first.readMessages(40)
            XCTAssertGreaterThanOrEqual(early.count, 40, "the first connection is served")
            let emittedBeforeJoin = simulator.statistics(room: 3)?.lastSeq ?? 0
            let second = try TestClient(port: port)
            second.sendAuth(room: 3, protover: 0)

            let a = try danmaku(first, through: 400)
            let b = try danmaku(second, through: 400)
            XCTAssertEqual(runs(a.map(\.id.seq)), "1-400", "the first connection has the room's whole sequence")
            XCTAssertTrue(a.allSatisfy { $0.id.room == 3 })
            let firstOfB = try XCTUnwrap(b.first?.id.seq, "the second connection received danmaku")
            XCTAssertGreaterThan(firstOfB, emittedBeforeJoin, "nothing emitted before its AUTH")
            XCTAssertEqual(runs(b.map(\.id.seq)), "\(firstOfB)-400", "from its join on, contiguous, to the end")
            let idsOfA = Dictionary(uniqueKeysWithValues: a.map { ($0.id.seq, $0.idStr) })
            for message in b { XCTAssertEqual(message.idStr, idsOfA[message.id.seq], "one emission, same id_str") }
            XCTAssertTrue(first.received.allSatisfy { $0.outerProtover == 2 }, "compression is per connection")
            XCTAssertTrue(second.received.allSatisfy { $0.outerProtover == 0 })

            // The limit is the room's: nothing more after 400, whatever the number of connections.
            XCTAssertTrue(try first.readMessages(1, timeout: 0.4).isEmpty, "the room stopped at its limit")
            let stats = try XCTUnwrap(simulator.statistics(room: 3))
            XCTAssertEqual(stats.messagesSent, 400)
            XCTAssertEqual(stats.danmakuSent, 400)
            XCTAssertEqual(stats.lastSeq, 400)
            XCTAssertEqual(stats.deliveries, UInt64(a.count + b.count), "one delivery per message and connection")
            XCTAssertEqual(stats.deliveriesSkipped, 0)
        }
    }

    /// A connection that joins after the room's connection left gets only the messages emitted after its join;
    /// while the room has no connection it emits nothing (its sequence continues with the next join).
    func testALaterJoinerGetsOnlyLaterMessagesAndAnEmptyRoomPauses() throws {
        try withSimulator(broadcasting(rate: 500, limit: nil)) { simulator, port in
            let early: UInt64
            do {
                let first = try TestClient(port: port)
                first.sendAuth(room: 7)
                early = try XCTUnwrap(try danmaku(first, through: 30).last?.id.seq)
            }
            XCTAssertTrue(eventually { simulator.statistics().connectionsOpen == 0 }, "the first client is gone")
            let pausedAt = simulator.statistics(room: 7)?.lastSeq ?? 0
            XCTAssertGreaterThanOrEqual(pausedAt, early)
            usleep(200_000)  // 100 messages' worth at the room's rate
            XCTAssertEqual(simulator.statistics(room: 7)?.lastSeq, pausedAt, "no connection: nothing emitted")

            let later = try TestClient(port: port)
            later.sendAuth(room: 7)
            let seqs = try danmaku(later, through: pausedAt + 50).map(\.id.seq)
            XCTAssertEqual(seqs.first, pausedAt + 1, "it starts after what was emitted before its join")
            XCTAssertEqual(runs(seqs), "\(pausedAt + 1)-\(pausedAt + UInt64(seqs.count))")
        }
    }

    /// Flood mode with a limit: the connection that has everything drives the room and the other follows; both
    /// end at the room's limit and the limit is not multiplied by the connections.
    func testFloodBroadcastsToEveryConnectionUpToTheRoomLimit() throws {
        try withSimulator(broadcasting(rate: 0, limit: 3000)) { simulator, port in
            let first = try TestClient(port: port)
            let second = try TestClient(port: port)
            first.sendAuth(room: 2, protover: 3)
            second.sendAuth(room: 2, protover: 0)
            let a = try danmaku(first, through: 3000).map(\.id.seq)
            let b = try danmaku(second, through: 3000).map(\.id.seq)
            XCTAssertEqual(a.last, 3000)
            XCTAssertEqual(b.last, 3000)
            for seqs in [a, b] {
                let start = try XCTUnwrap(seqs.first)
                XCTAssertEqual(runs(seqs), "\(start)-3000", "contiguous from the join to the limit")
            }
            XCTAssertTrue(try first.readMessages(1, timeout: 0.3).isEmpty, "nothing after the limit")
            let stats = try XCTUnwrap(simulator.statistics(room: 2))
            XCTAssertEqual(stats.messagesSent, 3000, "the limit counts the room's messages")
            XCTAssertEqual(stats.deliveries, UInt64(a.count + b.count))
        }
    }

    /// A client that stops reading does not stop the room: the reader beside it gets every message. The
    /// stalled one is skipped while its queue is over `maxQueuedBytesPerConnection`; the room's backlog keeps at
    /// most that many bytes for it, so it loses the oldest (counted in `deliveriesSkipped`), and when it reads
    /// again it catches up with what is still held, in order, to the end.
    func testASlowClientDoesNotStopTheRoomForTheOthers() throws {
        try withSimulator(broadcasting(rate: 0, limit: 20000, maxQueued: 64 << 10)) { simulator, port in
            let slow = try TestClient(port: port)
            var small: Int32 = 32 << 10  // a small window, so the kernel does not absorb the whole flood for it
            XCTAssertEqual(setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size)), 0)
            slow.sendAuth(room: 5)
            XCTAssertFalse(try slow.readFrames { !$0.isEmpty }.isEmpty, "AUTH_REPLY")
            let reader = try TestClient(port: port)
            reader.sendAuth(room: 5)
            let all = try danmaku(reader, through: 20000, timeout: 40).map(\.id.seq)
            XCTAssertEqual(all.last, 20000, "the reader got to the room's end while the other did not read")
            if let start = all.first { XCTAssertEqual(runs(all), "\(start)-20000", "contiguous") }

            let late = try danmaku(slow, through: 20000, timeout: 20).map(\.id.seq)
            XCTAssertEqual(late.last, 20000, "the slow client catches up to the end (EOF: \(slow.sawEOF))")
            XCTAssertEqual(late, late.sorted(), "in order: \(runs(late))")
            XCTAssertEqual(Set(late).count, late.count, "no duplicate")
            let stats = try XCTUnwrap(simulator.statistics(room: 5))
            XCTAssertGreaterThan(stats.deliveriesSkipped, 0, "the bounded backlog made it skip")
            XCTAssertEqual(UInt64(late.count) + stats.deliveriesSkipped, 20000, "received + skipped = emitted")
            XCTAssertEqual(stats.messagesSent, 20000)
        }
    }

    /// The default, `.oneConnection`, is unchanged: two connections of a room split its sequence (each message
    /// to one of them), and a delivery is a message sent.
    func testOneConnectionSplitsTheRoomBetweenItsConnections() throws {
        let configuration = Simulator.Configuration(
            rooms: .range(1...10), ratePerRoom: 300, messageLimitPerRoom: 400, mix: .danmakuOnly)
        XCTAssertEqual(configuration.delivery, .oneConnection)
        try withSimulator(configuration) { simulator, port in
            let first = try TestClient(port: port)
            let second = try TestClient(port: port)
            first.sendAuth(room: 4)
            second.sendAuth(room: 4)
            XCTAssertTrue(eventually(timeout: 10) { simulator.statistics(room: 4)?.messagesSent == 400 })
            let a = try danmaku(first, through: 400, timeout: 1).map(\.id.seq)
            let b = try danmaku(second, through: 400, timeout: 1).map(\.id.seq)
            XCTAssertFalse(a.isEmpty)
            XCTAssertFalse(b.isEmpty)
            XCTAssertTrue(Set(a).isDisjoint(with: b), "each message went to one connection")
            XCTAssertEqual(runs((a + b).sorted()), "1-400", "together: the room's sequence")
            let stats = try XCTUnwrap(simulator.statistics(room: 4))
            XCTAssertEqual(stats.deliveries, stats.messagesSent)
        }
    }
}
