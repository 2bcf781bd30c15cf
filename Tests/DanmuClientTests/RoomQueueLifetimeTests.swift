import DanmuSimulator
import EventLoop
import Glibc
import Synchronization
import XCTest

@testable import DanmuClient

/// One serial queue per room id survives its sessions (issue 17, bug 5).
final class RoomQueueLifetimeTests: XCTestCase {
    /// `remove` left the old session's queue draining and `add` made a new one: with two workers the old backlog
    /// and the new session's events ran at once and out of order, breaking "never two at once for the same room".
    func testReAddedRoomNeverRunsTwoQueuesAtOnce() throws {
        let simulator = try SimulatorHarness(.init(rooms: .range(1...1), ratePerRoom: 200, mix: danmakuOnly))
        defer { simulator.close() }
        let blocked = Atomic<Int>(0)
        let release = Atomic<Bool>(false)
        // Room 1's tenth event holds its worker until the test has removed and re-added the room, so the old
        // session's queue still has a backlog when the new session starts delivering.
        let recorder = SequenceRecorder { _, _ in
            if blocked.add(1, ordering: .relaxed).newValue == 10 {
                _ = waitUntil(timeout: .seconds(10)) { release.load(ordering: .acquiring) }
            }
        }
        let collector = try startCollector(
            testCollectorConfiguration(server: simulator.server, workers: 2), handler: recorder, rooms: [1])
        defer { collector.shutdown() }
        XCTAssertTrue(waitUntil { blocked.load(ordering: .relaxed) >= 10 }, "room 1 never delivered")
        usleep(200_000)  // a backlog builds up behind the blocked event
        collector.remove(room: 1)
        collector.add(room: 1)
        // The new session connects and receives while the old backlog is still blocked.
        XCTAssertTrue(waitUntil(timeout: .seconds(10)) { collector.statistics()[room: 1]?.phase == .live })
        usleep(300_000)
        release.store(true, ordering: .releasing)
        let before = recorder.count(1)
        XCTAssertTrue(waitUntil { recorder.count(1) > before + 50 }, "room 1 stopped after re-adding")
        let record = try XCTUnwrap(recorder.snapshot[1])
        XCTAssertEqual(record.overlaps, 0, "two handler calls for room 1 ran at once")
        XCTAssertEqual(record.outOfOrder, 0, "room 1's events ran out of order")
    }

    /// A removed room's queue is retired once its backlog has run: churn does not grow the collector.
    func testRemovedRoomsQueuesAreRetired() throws {
        let simulator = try SimulatorHarness(.init(rooms: .range(1...20), ratePerRoom: 20, mix: danmakuOnly))
        defer { simulator.close() }
        let collector = try DanmuCollector(configuration: testCollectorConfiguration(server: simulator.server))
        defer { collector.shutdown() }
        try collector.start()
        for round in 0..<5 {
            collector.add(rooms: 1...20)
            XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 20 }, "round \(round)")
            for room in Int64(1)...20 where room > 5 { collector.remove(room: room) }
        }
        XCTAssertTrue(
            waitUntil(timeout: .seconds(10)) { collector.queueCount == 5 },
            "queues kept: \(collector.queueCount), rooms: \(collector.rooms.count)")
    }
}
