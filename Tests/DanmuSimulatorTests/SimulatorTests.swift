import Glibc
import TestSupport
import XCTest
import DanmuClient
import EventLoop
@testable import DanmuSimulator

final class SimulatorTests: XCTestCase {
    func testAuthHeartbeatAndPlainMessagesInOrder() throws {
        let configuration = Simulator.Configuration(
            rooms: .range(1...3), ratePerRoom: 400, batchSize: 5,
            popularity: 4242)
        try withSimulator(configuration) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2, protover: 0)
            let first = try client.readFrames { !$0.isEmpty }
            let reply = try XCTUnwrap(first.first)
            XCTAssertEqual(reply.header, PacketHeader(length: 26, protover: 1, operation: .authReply, sequence: 1))
            XCTAssertEqual(reply.body, Array(#"{"code":0}"#.utf8))

            client.sendHeartbeat()
            let heartbeat = try client.readFrames { $0.contains { $0.header.operation == .heartbeatReply } }
                .first { $0.header.operation == .heartbeatReply }
            XCTAssertEqual(
                heartbeat?.header, PacketHeader(length: 20, protover: 1, operation: .heartbeatReply, sequence: 0))
            XCTAssertEqual(heartbeat?.body, [0, 0, 0x10, 0x92])

            _ = try client.readMessages(150)
            let messages = client.received  // including any that arrived together with op 8 / op 3
            XCTAssertGreaterThanOrEqual(messages.count, 150)
            XCTAssertTrue(messages.allSatisfy { $0.outerProtover == 0 })
            let seqs = sequenceNumbers(messages, room: 2)
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "contiguous from 1")
            XCTAssertGreaterThan(Set(messages.compactMap(\.cmd)).count, 5, "a mix of cmds")
            for danmaku in messages.compactMap(\.danmaku).prefix(20) {
                XCTAssertEqual(danmaku.text, simulator.danmakuText(seq: danmaku.id.seq))
            }
            let stats = simulator.statistics()
            XCTAssertEqual(stats.authsOK, 1)
            XCTAssertEqual(stats.heartbeatsAnswered, 1)
            XCTAssertEqual(stats.connectionsAccepted, 1)
            XCTAssertEqual(stats.connectionsOpen, 1)
            XCTAssertGreaterThanOrEqual(stats.rooms[2]?.lastSeq ?? 0, UInt64(seqs.count))
            XCTAssertNil(stats.rooms[1], "nobody listened to room 1: nothing sent")
        }
    }

    func testSequenceContinuesAcrossReconnects() throws {
        let configuration = Simulator.Configuration(
            rooms: .ids([77]), ratePerRoom: 500, mix: .danmakuOnly,
            faults: [FaultRule(.closeAfter(messages: 20), rooms: .all, firstConnections: 1)])
        try withSimulator(configuration) { simulator, port in
            do {
                let first = try TestClient(port: port)
                first.sendAuth(room: 77)
                let messages = try first.readMessages(1000, timeout: 5)
                XCTAssertTrue(first.sawEOF, "closed after 20 messages")
                XCTAssertEqual(sequenceNumbers(messages, room: 77), Array(1...20))
            }
            let second = try TestClient(port: port)
            second.sendAuth(room: 77)
            let seqs = sequenceNumbers(try second.readMessages(30), room: 77)
            XCTAssertEqual(seqs.first, 21)
            XCTAssertEqual(seqs, Array(21...UInt64(20 + seqs.count)))
            XCTAssertFalse(second.sawEOF, "the rule only applies to the first connection")
            XCTAssertEqual(simulator.statistics(room: 77)?.authsOK, 2)
            XCTAssertEqual(simulator.statistics(room: 77)?.faultsTriggered, 1)
        }
    }

    func testBadAuthIsClosedWithoutReply() throws {
        let configuration = Simulator.Configuration(
            rooms: .range(1...10), requiredKey: "secret",
            authTimeout: .milliseconds(300))
        try withSimulator(configuration) { simulator, port in
            var cases: [(String, TestClient)] = []
            let unknownRoom = try TestClient(port: port)
            unknownRoom.sendAuth(room: 11, key: "secret")
            cases.append(("unknown room", unknownRoom))
            let wrongKey = try TestClient(port: port)
            wrongKey.sendAuth(room: 3, key: "guess")
            cases.append(("wrong key", wrongKey))
            let badProtover = try TestClient(port: port)
            badProtover.sendAuth(room: 3, protover: 9, key: "secret")
            cases.append(("protover 9", badProtover))
            let heartbeatFirst = try TestClient(port: port)
            heartbeatFirst.sendHeartbeat()
            cases.append(("heartbeat before auth", heartbeatFirst))
            let notJSON = try TestClient(port: port)
            notJSON.sendRaw(Packet.encode(.auth, body: Array("roomid=3".utf8)))
            cases.append(("not JSON", notJSON))
            let silent = try TestClient(port: port)
            cases.append(("no auth within the timeout", silent))
            for (name, client) in cases {
                XCTAssertTrue(client.waitForClose(timeout: 5), name)
                XCTAssertEqual(client.readSizes, [], "\(name): nothing was sent")
            }
            XCTAssertTrue(eventually { simulator.statistics().authsFailed == 6 })
            XCTAssertEqual(simulator.statistics().rooms[3]?.authsFailed, 2, "wrong key + bad protover")
            XCTAssertEqual(simulator.statistics().authsOK, 0)
            XCTAssertTrue(eventually { simulator.statistics().connectionsOpen == 0 })
        }
    }

    func testHeartbeatEchoOutsideTheDeclaredLength() throws {
        let configuration = Simulator.Configuration(
            rooms: .range(1...1), ratePerRoom: 0.001,
            heartbeatEcho: .objectObject, popularity: 2466)
        try withSimulator(configuration) { _, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 1)
            _ = try client.readFrames { !$0.isEmpty }
            client.sendHeartbeat()
            var raw: [UInt8] = []
            while raw.count < 35, let bytes = client.readOnce(timeout: 5), !bytes.isEmpty { raw += bytes }
            XCTAssertEqual(raw, try fixtureBytes("captures/bac_2022-07_s2c_op3_heartbeat_reply_with_echo.bin"))
        }
    }

    func testClientBodyEchoRepeatsWhatTheClientSent() throws {
        let configuration = Simulator.Configuration(
            rooms: .ids([5]), ratePerRoom: 0.001, heartbeatEcho: .clientBody,
            popularity: 7)
        try withSimulator(configuration) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 5)
            _ = try client.readFrames { !$0.isEmpty }
            client.sendHeartbeat(body: Array("abc".utf8))
            var raw: [UInt8] = []
            while raw.count < 23, let bytes = client.readOnce(timeout: 5), !bytes.isEmpty { raw += bytes }
            XCTAssertEqual(raw, [0, 0, 0, 20, 0, 16, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7] + Array("abc".utf8))
            client.sendHeartbeat()  // empty body → nothing extra, and the decoder stays in sync
            let frames = try client.readFrames { $0.contains { $0.header.operation == .heartbeatReply } }
            XCTAssertEqual(frames.filter { $0.header.operation == .heartbeatReply }.map(\.body), [[0, 0, 0, 7]])
            XCTAssertTrue(eventually { simulator.statistics(room: 5)?.heartbeatsAnswered == 2 })
        }
    }

    func testFloodDeliversEveryMessageOfEveryRoom() throws {
        let limit = 3000
        let configuration = Simulator.Configuration(
            rooms: .range(1...4), ratePerRoom: 0, messageLimitPerRoom: limit,
            batchSize: 20)
        try withSimulator(configuration) { simulator, port in
            let clients = try (1...4).map { room in
                let client = try TestClient(port: port)
                client.sendAuth(room: Int64(room))
                return client
            }
            for (index, client) in clients.enumerated() {
                let room = Int64(index + 1)
                let messages = try client.readMessages(limit, timeout: 20)
                XCTAssertEqual(messages.count, limit)
                let seqs = sequenceNumbers(messages, room: room)
                XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)))
                XCTAssertEqual(simulator.statistics(room: room)?.messagesSent, UInt64(limit))
                XCTAssertEqual(simulator.statistics(room: room)?.lastSeq, UInt64(seqs.count))
            }
            XCTAssertEqual(simulator.statistics().messagesSent, UInt64(4 * limit))
        }
    }

    func testManyRoomsAreServedByOneTimer() throws {
        let rooms = 100
        let configuration = Simulator.Configuration(
            rooms: .range(1...Int64(rooms)), ratePerRoom: 50,
            mix: .danmakuOnly)
        try withSimulator(configuration) { simulator, port in
            let clients = try (1...rooms).map { room in
                let client = try TestClient(port: port)
                client.sendAuth(room: Int64(room))
                return client
            }
            for (index, client) in clients.enumerated() {
                let seqs = sequenceNumbers(try client.readMessages(5), room: Int64(index + 1))
                XCTAssertEqual(Array(seqs.prefix(5)), [1, 2, 3, 4, 5], "room \(index + 1)")
            }
            XCTAssertEqual(simulator.statistics().authsOK, UInt64(rooms))
        }
    }

    func testStopClosesConnectionsAndIsIdempotent() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let baseline = openFileDescriptors().count
        let simulator = Simulator(reactor: reactor, configuration: .init(rooms: .range(1...2)))
        let port = try simulator.start().port
        let client = try TestClient(port: port)
        client.sendAuth(room: 1)
        XCTAssertFalse(try client.readFrames { !$0.isEmpty }.isEmpty)
        simulator.stop()
        XCTAssertTrue(client.waitForClose(timeout: 5))
        simulator.stop()
        XCTAssertEqual(simulator.statistics().connectionsOpen, 0)
        XCTAssertThrowsError(try simulator.start()) { XCTAssertEqual($0 as? SimulatorError, .alreadyStarted) }
        XCTAssertEqual(openFileDescriptors().count, baseline + 1, "only the test client's fd remains")
    }
}
