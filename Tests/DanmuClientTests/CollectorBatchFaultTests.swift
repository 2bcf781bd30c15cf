import DanmuCodecs
import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// A server that scripts each ROOM (read from the AUTH body's "roomid"): the n-th connection of room r gets
/// `script(r, n)` right after its AUTH, and every later read (the client's heartbeats) is answered with a
/// heartbeat reply so the watchdog stays quiet. `send(room:_:)` writes more to a room's current connection.
/// Loop-confined on the test's own reactor except for the counters.
private final class RoomScriptedServer: ListenerHandler, @unchecked Sendable {
    final class Connection: ConnectionHandler {
        let server: RoomScriptedServer
        var id: ConnectionID?
        var room: Int64?
        init(server: RoomScriptedServer) { self.server = server }
        func connectionDidOpen(_ connection: ConnectionID) { id = connection }
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            if room != nil {
                server.reactor.write(connection, Packet.heartbeatReply(popularity: 1))
                return
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let range = text.range(of: "\"roomid\":") else { return }
            let room = Int64(text[range.upperBound...].prefix { $0.isNumber }) ?? -1
            self.room = room
            let index = server.connectionCounts.withLock { counts in
                defer { counts[room, default: 0] += 1 }
                return counts[room, default: 0]
            }
            server.current[room] = connection
            server.reactor.write(connection, server.script(room, index))
        }
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
            if let room, server.current[room] == connection { server.current[room] = nil }
        }
    }

    let reactor: Reactor
    let script: @Sendable (Int64, Int) -> [UInt8]
    /// Connections accepted per room (any thread).
    let connectionCounts = Lock<[Int64: Int]>([:])
    /// Each room's open connection (loop thread only).
    var current: [Int64: ConnectionID] = [:]

    init(reactor: Reactor, script: @escaping @Sendable (Int64, Int) -> [UInt8]) {
        self.reactor = reactor
        self.script = script
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        Connection(server: self)
    }

    /// Writes `bytes` to `room`'s open connection, on the loop; false when it has none.
    func send(room: Int64, _ bytes: [UInt8]) -> Bool {
        let sent = Lock(false)
        let gate = Semaphore()
        reactor.execute {
            if let id = self.current[room] {
                self.reactor.write(id, bytes)
                sent.withLock { $0 = true }
            }
            gate.signal()
        }
        gate.wait()
        return sent.withLock { $0 }
    }

    func listen() throws -> UInt16 {
        let gate = Semaphore()
        let result = Lock<Result<SocketAddress, SystemError>?>(nil)
        reactor.execute {
            do throws(SystemError) {
                let listener = try self.reactor.listen(on: SocketAddress.loopback(port: 0), handler: self)
                result.withLock { $0 = .success(self.reactor.localAddress(of: listener)!) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            gate.signal()
        }
        gate.wait()
        return try XCTUnwrap(result.withLock { $0 }).get().port
    }
}

/// One plain (ver 0) op-5 message with cmd `cmd`.
private func message(_ cmd: String) -> [UInt8] {
    Packet.encode(.message, protover: 0, sequence: 0, body: Array("{\"cmd\":\"\(cmd)\"}".utf8))
}

/// Records (room, cmd) of every TEST_* event, in delivery order.
private final class CommandRecorder: @unchecked Sendable {
    let seen = Lock<[Int64: [String]]>([:])
    var handler: DanmuHandlers {
        DanmuHandlers(event: { event in
            if case .unknown(let cmd, _) = event.event, cmd.hasPrefix("TEST_") {
                self.seen.withLock { $0[event.room, default: []].append(cmd) }
            }
        })
    }
    func commands(_ room: Int64) -> [String] { seen.withLock { $0[room] ?? [] } }
}

/// Damage inside compressed batches, at collector level over real sockets: it stays in its room.
final class CollectorBatchFaultTests: XCTestCase {
    /// Room 2's first connection sends a good brotli batch, then a corrupt one: that connection is closed and
    /// reconnected (one protocol error, counted in room 2 only), its second connection delivers again. Rooms 1
    /// and 3 keep their first connection throughout and still receive what is sent after room 2's failure.
    func testCorruptBrotliReconnectsThatRoomOnly() throws {
        let good = Brotli.compressUncompressed(message("TEST_BATCH_A") + message("TEST_BATCH_B"))
        var corrupt = Brotli.compressUncompressed(message("TEST_NEVER"))
        corrupt[0] = 0xFF  // an invalid window-size code
        corrupt.append(contentsOf: [0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try Brotli.decompress(corrupt), "the corrupt body must be corrupt")
        let goodBatch = Packet.encode(.message, protover: 3, sequence: 0, body: good)
        let corruptBatch = Packet.encode(.message, protover: 3, sequence: 0, body: corrupt)

        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let server = RoomScriptedServer(reactor: reactor) { room, connection in
            let auth = Packet.authReply(code: 0)
            switch (room, connection) {
            case (2, 0): return auth + goodBatch + corruptBatch
            case (2, _): return auth + message("TEST_AFTER_RECONNECT")
            default: return auth + goodBatch
            }
        }
        let port = try server.listen()
        let recorder = CommandRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)), handler: recorder.handler,
            rooms: 1...3)
        defer { collector.shutdown() }

        XCTAssertTrue(
            waitUntil { recorder.commands(2).contains("TEST_AFTER_RECONNECT") },
            "room 2: \(recorder.commands(2)); \(collector.statistics().rooms)")
        XCTAssertTrue(waitUntil { recorder.commands(1).count == 2 && recorder.commands(3).count == 2 })
        // The other rooms' first connections are still open and still deliver.
        for room: Int64 in [1, 3] {
            XCTAssertTrue(server.send(room: room, message("TEST_LATER")), "room \(room) lost its connection")
        }
        XCTAssertTrue(
            waitUntil { recorder.commands(1).last == "TEST_LATER" && recorder.commands(3).last == "TEST_LATER" })

        XCTAssertEqual(
            recorder.commands(2), ["TEST_BATCH_A", "TEST_BATCH_B", "TEST_AFTER_RECONNECT"],
            "the good batch before the damage is delivered, nothing of the corrupt one")
        let statistics = collector.statistics()
        let damaged = try XCTUnwrap(statistics[room: 2])
        XCTAssertEqual(damaged.protocolErrors, 1)
        guard case .protocolError(let why, _)? = damaged.lastError, why.contains("brotli") else {
            return XCTFail("room 2's last error: \(String(describing: damaged.lastError))")
        }
        XCTAssertEqual(damaged.reconnects, 1)
        XCTAssertEqual(server.connectionCounts.withLock { $0[2] }, 2)
        for room: Int64 in [1, 3] {
            let other = try XCTUnwrap(statistics[room: room])
            XCTAssertEqual(recorder.commands(room), ["TEST_BATCH_A", "TEST_BATCH_B", "TEST_LATER"], "room \(room)")
            XCTAssertEqual(other.protocolErrors, 0, "room \(room) is not affected")
            XCTAssertEqual(other.reconnects, 0, "room \(room) is not affected")
            XCTAssertEqual(other.phase, .live, "room \(room)")
            XCTAssertEqual(server.connectionCounts.withLock { $0[room] }, 1, "room \(room): one connection")
        }
    }

    /// A zlib batch whose middle message is not JSON: that message is skipped and counted (malformedMessages),
    /// the messages before and after it in the same batch are delivered in order, and the connection stays up.
    func testMalformedJSONInsideAZlibBatchIsSkippedAndCountedNeighboursDelivered() throws {
        let malformed = Packet.encode(.message, protover: 0, sequence: 0, body: Array(#"{"cmd":"TEST_BROKEN""#.utf8))
        let inner = message("TEST_BEFORE") + malformed + message("TEST_AFTER")
        let batch = Packet.encode(.message, protover: 2, sequence: 0, body: Zlib.compress(inner))

        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let server = RoomScriptedServer(reactor: reactor) { _, _ in Packet.authReply(code: 0) + batch }
        let port = try server.listen()
        let recorder = CommandRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)), handler: recorder.handler,
            rooms: [7])
        defer { collector.shutdown() }

        XCTAssertTrue(waitUntil { recorder.commands(7).count == 2 }, "room 7: \(recorder.commands(7))")
        // The same connection still delivers afterwards.
        XCTAssertTrue(server.send(room: 7, message("TEST_LATER")), "the connection was dropped")
        XCTAssertTrue(waitUntil { recorder.commands(7).count == 3 })
        XCTAssertEqual(recorder.commands(7), ["TEST_BEFORE", "TEST_AFTER", "TEST_LATER"])
        let room = try XCTUnwrap(collector.statistics()[room: 7])
        XCTAssertEqual(room.malformedMessages, 1)
        XCTAssertEqual(room.protocolErrors, 0)
        XCTAssertEqual(room.reconnects, 0)
        XCTAssertEqual(room.phase, .live)
        XCTAssertEqual(server.connectionCounts.withLock { $0[7] }, 1)
    }
}
