import DanmuSimulator
import TestSupport
import XCTest

@testable import DanmuClient

/// 1,000 rooms against the simulator on loopback, in one collector.
final class ScaleRoomsTests: XCTestCase {
    func testThousandRoomsConnectHeartbeatAndDeliverEveryMessageInOrder() throws {
        let perRoom = 12
        let simulator = try SimulatorHarness(
            .init(
                rooms: .range(1...1_100), ratePerRoom: 6, messageLimitPerRoom: perRoom, batchSize: 3, mix: danmakuOnly))
        defer { simulator.close() }
        let baselineFDs = openFileDescriptorCount()

        let recorder = SequenceRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: simulator.server), handler: recorder, rooms: 1...1_000)

        XCTAssertTrue(
            waitUntil(timeout: .seconds(60)) { collector.statistics().roomsLive == 1_000 },
            "live: \(collector.statistics().roomsLive)")
        XCTAssertTrue(
            waitUntil(timeout: .seconds(60)) { recorder.total == 1_000 * perRoom },
            "received \(recorder.total) of \(1_000 * perRoom)")
        // Heartbeats: every room beat right after auth and then every 300 ms.
        XCTAssertTrue(
            waitUntil(timeout: .seconds(20)) {
                let rooms = simulator.simulator.statistics().rooms
                return (1...1_000).allSatisfy { (rooms[$0]?.heartbeatsAnswered ?? 0) >= 3 }
            }, "some room did not heartbeat")

        // Adding rooms while 1,000 are live.
        collector.add(rooms: 1_001...1_100)
        XCTAssertTrue(
            waitUntil(timeout: .seconds(60)) { recorder.total == 1_100 * perRoom },
            "received \(recorder.total) of \(1_100 * perRoom)")

        let statistics = collector.statistics()
        XCTAssertEqual(statistics.roomsLive, 1_100)
        XCTAssertEqual(statistics.reconnects, 0, errorSummary(statistics))
        XCTAssertEqual(statistics.errors, 0, errorSummary(statistics))
        XCTAssertEqual(recorder.violations, 0)
        for room in Int64(1)...1_100 {
            XCTAssertEqual(recorder.seqs(room), Array(1...UInt64(perRoom)), "room \(room)")
            XCTAssertEqual(statistics[room: room]?.eventsByKind[.danmaku], perRoom)
        }
        XCTAssertEqual(simulator.simulator.statistics().connectionsOpen, 1_100)

        collector.shutdown()
        XCTAssertTrue(
            waitUntil(timeout: .seconds(10)) { openFileDescriptorCount() == baselineFDs },
            "fds \(openFileDescriptorCount()) vs baseline \(baselineFDs): \(openFileDescriptorTargets())")
        XCTAssertTrue(waitUntil(timeout: .seconds(10)) { simulator.simulator.statistics().connectionsOpen == 0 })
    }
}
