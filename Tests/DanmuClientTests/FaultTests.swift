import DanmuSimulator
import TestSupport
import XCTest

@testable import DanmuClient

/// The simulator's fault matrix: each fault hits some rooms; those rooms recover, every other room's sequence is
/// unbroken, nothing crashes, and the descriptors are back to baseline after shutdown.
final class FaultTests: XCTestCase {
    /// Room id % 10 → the fault of that group (groups 0, 8, 9 are healthy).
    private static let faults: [FaultRule] = [
        FaultRule(.closeAfter(messages: 5), rooms: .everyKth(10, remainder: 1), firstConnections: 1),
        FaultRule(.garbageHeader(afterMessages: 4), rooms: .everyKth(10, remainder: 2), firstConnections: 1),
        FaultRule(.absurdLength(afterMessages: 4), rooms: .everyKth(10, remainder: 3), firstConnections: 1),
        FaultRule(.tinyWrites, rooms: .everyKth(10, remainder: 4)),
        FaultRule(.noAuthReply, rooms: .everyKth(10, remainder: 5), firstConnections: 1),
        FaultRule(.noHeartbeatReply, rooms: .everyKth(10, remainder: 6)),
        FaultRule(.stall(afterMessages: 4), rooms: .everyKth(10, remainder: 7), firstConnections: 1),
    ]

    func testFaultMatrixHealsFaultedRoomsAndLeavesOthersUnbroken() throws {
        let perRoom = 20
        let rooms = Int64(1)...300
        let simulator = try SimulatorHarness(
            .init(
                rooms: .range(rooms), ratePerRoom: 10, messageLimitPerRoom: perRoom, batchSize: 2, mix: danmakuOnly,
                faults: Self.faults))
        defer { simulator.close() }
        let baselineFDs = openFileDescriptorCount()
        let recorder = SequenceRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: simulator.server), handler: recorder, rooms: rooms)

        // Every room eventually receives its last message (faulted ones after reconnecting).
        let done = waitUntil(timeout: .seconds(60)) {
            rooms.allSatisfy { recorder.seqs($0).last == UInt64(perRoom) }
        }
        XCTAssertTrue(
            done, "rooms not finished: \(rooms.filter { recorder.seqs($0).last != UInt64(perRoom) }.prefix(20))")

        let statistics = collector.statistics()
        XCTAssertEqual(recorder.violations, 0, "duplicates, reordering or concurrent delivery")
        for room in rooms {
            let group = room % 10
            let seqs = recorder.seqs(room)
            let roomStatistics = statistics[room: room]
            switch group {
            case 2, 3:
                // The bad header poisons the stream: messages written after it on that connection are gone
                // with it; the room reconnects and continues in order.
                XCTAssertGreaterThanOrEqual(roomStatistics?.protocolErrors ?? 0, 1, "room \(room)")
                XCTAssertGreaterThanOrEqual(roomStatistics?.reconnects ?? 0, 1, "room \(room)")
                XCTAssertEqual(Array(seqs.prefix(4)), [1, 2, 3, 4], "room \(room)")
            case 1, 5, 7:
                // Closed, unanswered or stalled connections lose nothing: the simulator only counts what it wrote.
                XCTAssertEqual(seqs, Array(1...UInt64(perRoom)), "room \(room)")
                XCTAssertGreaterThanOrEqual(roomStatistics?.reconnects ?? 0, 1, "room \(room)")
                if group == 5 { XCTAssertEqual(roomStatistics?.lastError, .authTimeout, "room \(room)") }
                if group == 7 { XCTAssertEqual(roomStatistics?.lastError, .watchdog, "room \(room)") }
            case 6:
                XCTAssertEqual(seqs, Array(1...UInt64(perRoom)), "room \(room)")
            default:
                XCTAssertEqual(seqs, Array(1...UInt64(perRoom)), "room \(room)")
                XCTAssertEqual(
                    roomStatistics?.errors, 0, "room \(room): \(String(describing: roomStatistics?.lastError))")
                XCTAssertEqual(roomStatistics?.reconnects, 0, "room \(room)")
            }
        }
        XCTAssertGreaterThanOrEqual(statistics.protocolErrors, 60)

        collector.shutdown()
        XCTAssertTrue(
            waitUntil(timeout: .seconds(10)) { openFileDescriptorCount() == baselineFDs },
            "fds \(openFileDescriptorCount()) vs baseline \(baselineFDs): \(openFileDescriptorTargets())")
    }
}
