import Glibc
import XCTest
import DanmuClient
@testable import DanmuSimulator

/// Each fault mode, seen from a client.
final class FaultModeTests: XCTestCase {
    private func configuration(_ fault: Fault, rate: Double = 300) -> Simulator.Configuration {
        Simulator.Configuration(
            rooms: .range(1...4), ratePerRoom: rate, batchSize: 4, mix: .danmakuOnly,
            faults: [FaultRule(fault, rooms: .everyKth(2, remainder: 0))])
    }

    func testFaultsOnlyHitSelectedRooms() throws {
        try withSimulator(configuration(.closeAfter(messages: 3))) { _, port in
            let healthy = try TestClient(port: port)
            healthy.sendAuth(room: 1)
            XCTAssertGreaterThanOrEqual(try healthy.readMessages(10).count, 10)
            XCTAssertFalse(healthy.sawEOF)
            let faulty = try TestClient(port: port)
            faulty.sendAuth(room: 2)
            XCTAssertEqual(sequenceNumbers(try faulty.readMessages(100, timeout: 5), room: 2), [1, 2, 3])
            XCTAssertTrue(faulty.sawEOF)
        }
    }

    func testGarbageHeaderAfterMessages() throws {
        try withSimulator(configuration(.garbageHeader(afterMessages: 5))) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2)
            XCTAssertThrowsError(try client.readMessages(1000, timeout: 5)) { error in
                XCTAssertTrue(error is ProtocolError, "\(error)")
            }
            let messages = client.received
            XCTAssertEqual(sequenceNumbers(messages, room: 2), [1, 2, 3, 4, 5])
            XCTAssertEqual(simulator.statistics(room: 2)?.faultsTriggered, 1)
        }
    }

    func testAbsurdLengthAfterMessages() throws {
        try withSimulator(configuration(.absurdLength(afterMessages: 2))) { _, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 4)
            XCTAssertThrowsError(try client.readMessages(1000, timeout: 5)) { error in
                XCTAssertTrue(error is ProtocolError, "\(error)")
            }
            let messages = client.received
            XCTAssertEqual(sequenceNumbers(messages, room: 4), [1, 2])
        }
    }

    func testTinyWritesStillDecode() throws {
        // Default burst: 8 pieces of 1–3 bytes per millisecond, i.e. ~16 bytes/ms.
        try withSimulator(configuration(.tinyWrites, rate: 20)) { _, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2)
            let messages = try client.readMessages(2, timeout: 15)
            XCTAssertEqual(sequenceNumbers(messages, room: 2).prefix(2), [1, 2])
            // Each danmaku is ~2.7 KB; dribbled out 1–3 bytes at a time, it arrives in many small reads (even a
            // client descheduled for 50 ms on a busy machine reads < 1 KB at once).
            XCTAssertGreaterThan(client.readSizes.count, 10)
            XCTAssertLessThan(client.readSizes.reduce(0, +) / client.readSizes.count, 1000)
        }
    }

    func testNoAuthReplyKeepsTheSocketSilentAndOpen() throws {
        try withSimulator(configuration(.noAuthReply)) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2)
            XCTAssertEqual(client.readOnce(timeout: 0.5), [], "no bytes, no EOF")
            XCTAssertFalse(client.sawEOF)
            XCTAssertEqual(simulator.statistics(room: 2)?.messagesSent ?? 0, 0)
            XCTAssertEqual(simulator.statistics(room: 2)?.faultsTriggered, 1)
        }
    }

    func testNoHeartbeatReplyButMessagesFlow() throws {
        try withSimulator(configuration(.noHeartbeatReply)) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2)
            client.sendHeartbeat()
            let frames = try client.readFrames(timeout: 1) { _ in false }
            XCTAssertEqual(frames.first?.header.operation, .authReply)
            XCTAssertFalse(frames.contains { $0.header.operation == .heartbeatReply })
            XCTAssertGreaterThan(frames.filter { $0.header.operation == .message }.count, 20)
            XCTAssertEqual(simulator.statistics().heartbeatsAnswered, 0)
        }
    }

    func testStallStopsEverythingButKeepsTheSocket() throws {
        try withSimulator(configuration(.stall(afterMessages: 6))) { simulator, port in
            let client = try TestClient(port: port)
            client.sendAuth(room: 2)
            let messages = try client.readMessages(100, timeout: 1)
            XCTAssertEqual(sequenceNumbers(messages, room: 2), [1, 2, 3, 4, 5, 6])
            client.sendHeartbeat()
            XCTAssertEqual(client.readOnce(timeout: 0.3), [], "no heartbeat reply, no EOF")
            XCTAssertFalse(client.sawEOF)
            XCTAssertEqual(simulator.statistics().connectionsOpen, 1)
            XCTAssertEqual(simulator.statistics(room: 2)?.messagesSent, 6)
        }
    }
}
