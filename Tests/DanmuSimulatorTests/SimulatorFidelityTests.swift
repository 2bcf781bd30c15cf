import EventLoop
import XCTest

@testable import DanmuSimulator

/// Issue 16, "the simulator as the live site": protover 1 gets zlib batches, and a connection that stops
/// heart-beating is closed.
final class SimulatorFidelityTests: XCTestCase {
    func testProtoverOneGetsZlibBatchesAndZeroStaysPlain() throws {
        let configuration = Simulator.Configuration(rooms: .range(1...2), ratePerRoom: 200, batchSize: 5)
        try withSimulator(configuration) { _, port in
            let modern = try TestClient(port: port)
            modern.sendAuth(room: 1, protover: 1)
            let zlib = try modern.readMessages(20)
            XCTAssertGreaterThanOrEqual(zlib.count, 20)
            XCTAssertTrue(zlib.allSatisfy { $0.outerProtover == 2 }, "protover 1 is answered with ver 2 batches")
            XCTAssertEqual(sequenceNumbers(zlib, room: 1), Array(1...UInt64(sequenceNumbers(zlib, room: 1).count)))

            let plain = try TestClient(port: port)
            plain.sendAuth(room: 2, protover: 0)
            let messages = try plain.readMessages(10)
            XCTAssertTrue(messages.allSatisfy { $0.outerProtover == 0 }, "protover 0: the simulator's plain mode")
        }
    }

    func testConnectionWithoutHeartbeatsIsClosedAndABeatingOneIsKept() throws {
        var configuration = Simulator.Configuration(rooms: .range(1...2), ratePerRoom: 5)
        configuration.heartbeatTimeout = .milliseconds(400)
        try withSimulator(configuration) { simulator, port in
            let silent = try TestClient(port: port)
            silent.sendAuth(room: 1, protover: 2)
            let beating = try TestClient(port: port)
            beating.sendAuth(room: 2, protover: 2)
            XCTAssertTrue(eventually { simulator.statistics().authsOK == 2 })
            // 1.5 s of heartbeats every 100 ms: far past the 400 ms limit, never past it between two beats.
            let start = SimulatedMessageID.monotonicNow()
            while SimulatedMessageID.monotonicNow() - start < 1_500_000_000 {
                beating.sendHeartbeat()
                _ = beating.readOnce(timeout: 0.1)
            }
            XCTAssertTrue(silent.waitForClose(timeout: 5), "no heartbeat for 400 ms: closed")
            XCTAssertEqual(simulator.statistics().heartbeatTimeouts, 1)
            beating.sendHeartbeat()
            let reply = try beating.readFrames(timeout: 5) { $0.contains { $0.header.operation == .heartbeatReply } }
            XCTAssertTrue(
                reply.contains { $0.header.operation == .heartbeatReply }, "the beating connection is still served")
            XCTAssertEqual(simulator.statistics().connectionsOpen, 1)
        }
    }

    func testDefaultHeartbeatTimeoutIsTheLiveServers() {
        XCTAssertEqual(Simulator.Configuration().heartbeatTimeout, .seconds(70))
    }
}
