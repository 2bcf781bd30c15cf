import DanmuClient
import EventLoop
import XCTest

@testable import DanmuCluster

/// The lease gate alone, with a lease table and tenure times set by hand (no Redis, no clock games).
final class LeaseGateTests: XCTestCase {
    private func gate(validRooms: [Int64], tenureStart: [Int64: Int64]) -> LeaseGateStage {
        var table = LeaseTable(ttl: 60_000_000_000, margin: 0)
        table.claimed(validRooms, sentAt: SystemClock.monotonicNanoseconds())
        var shared = ClusterNode.Shared(table: table, status: .init(nodeID: "test"))
        shared.tenureStart = tenureStart
        return LeaseGateStage(shared: Lock(shared))
    }

    private func event(room: Int64, receivedAt: Int64) -> RoomEvent {
        RoomEvent(room: room, receivedAt: receivedAt, event: .popularity(1))
    }

    func testRoomsWithoutAValidLeaseAreDropped() {
        let stage = gate(validRooms: [1], tenureStart: [1: 0])
        let kept = stage.process([event(room: 1, receivedAt: 5), event(room: 2, receivedAt: 5)])
        XCTAssertEqual(kept.map(\.room), [1])
        XCTAssertEqual(stage.droppedEvents, 1)
    }

    /// Regression (SIGSTOP case under ThreadSanitizer: 4 danmaku read by the old connection while the node slept
    /// were written after it had lost the room and claimed it again): events read before the current tenure began
    /// are dropped although the lease is valid now. Before the tenure check this kept all three.
    func testEventsReadBeforeTheCurrentTenureAreDroppedUnderAValidLease() {
        let stage = gate(validRooms: [1], tenureStart: [1: 1_000])
        let kept = stage.process([
            event(room: 1, receivedAt: 999), event(room: 1, receivedAt: 1_000), event(room: 1, receivedAt: 1_001),
        ])
        XCTAssertEqual(kept.map(\.receivedAt), [1_000, 1_001])
        XCTAssertEqual(stage.droppedEvents, 1)
    }
}
