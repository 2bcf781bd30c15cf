import XCTest

@testable import EventLoop

/// The timer queue driven by a manual clock: no sleeping, exact expectations.
final class TimerQueueTests: XCTestCase {
    /// Fires everything due at `now`, returning the payloads in firing order.
    private func advance(_ queue: inout TimerQueue<Int>, to now: UInt64) -> [Int] {
        var fired: [Int] = []
        while let (_, payload) = queue.popExpired(now: now) { fired.append(payload) }
        return fired
    }

    func testTimersFireInDeadlineOrderAndTiesInSchedulingOrder() {
        var queue = TimerQueue<Int>()
        _ = queue.schedule(at: 300, 0)
        _ = queue.schedule(at: 100, 1)
        _ = queue.schedule(at: 200, 2)
        _ = queue.schedule(at: 100, 3)
        _ = queue.schedule(at: 50, 4)
        XCTAssertEqual(queue.nextDeadline, 50)
        XCTAssertEqual(advance(&queue, to: 49), [])
        XCTAssertEqual(advance(&queue, to: 100), [4, 1, 3])
        XCTAssertEqual(advance(&queue, to: 1_000), [2, 0])
        XCTAssertEqual(queue.count, 0)
        XCTAssertNil(queue.nextDeadline)
    }

    func testCancelRemovesOnlyThatTimerAndIsIdempotent() {
        var queue = TimerQueue<Int>()
        let ids = (0..<10).map { queue.schedule(at: UInt64(10 * ($0 + 1)), $0) }
        XCTAssertTrue(queue.cancel(ids[3]))
        XCTAssertFalse(queue.cancel(ids[3]))
        XCTAssertTrue(queue.cancel(ids[0]))
        XCTAssertTrue(queue.cancel(ids[9]))
        XCTAssertEqual(advance(&queue, to: 1_000), [1, 2, 4, 5, 6, 7, 8])
        // A fired id is dead too, even once its slot is reused.
        XCTAssertFalse(queue.cancel(ids[1]))
        let reused = queue.schedule(at: 2_000, 42)
        XCTAssertFalse(queue.cancel(ids[1]))
        XCTAssertTrue(queue.isPending(reused))
        XCTAssertEqual(advance(&queue, to: 2_000), [42])
    }

    func testRepeatingTimerKeepsItsPhaseAndSkipsMissedPeriods() {
        var queue = TimerQueue<Int>()
        let id = queue.schedule(at: 100, period: 30, 7)
        XCTAssertEqual(advance(&queue, to: 100), [7])
        XCTAssertEqual(queue.nextDeadline, 130)
        XCTAssertEqual(advance(&queue, to: 129), [])
        XCTAssertEqual(advance(&queue, to: 130), [7])
        // Late by 3.5 periods: fires once, the next deadline stays on the 30-grid.
        XCTAssertEqual(advance(&queue, to: 265), [7])
        XCTAssertEqual(queue.nextDeadline, 280)
        XCTAssertTrue(queue.isPending(id))
        XCTAssertTrue(queue.cancel(id))
        XCTAssertEqual(advance(&queue, to: 10_000), [])
    }

    func testHeartbeatsSpreadOverThePeriodFireEvenly() {
        // 3,000 rooms with 30 s heartbeats spread over the period: each 1 s window fires ~100 of them.
        var queue = TimerQueue<Int>()
        let second: UInt64 = 1_000_000_000
        let period = 30 * second
        for room in 0..<3_000 { _ = queue.schedule(at: period * UInt64(room) / 3_000, period: period, room) }
        var counts: [Int] = []
        for window in 1...90 { counts.append(advance(&queue, to: UInt64(window) * second - 1).count) }
        XCTAssertEqual(counts.reduce(0, +), 9_000)
        XCTAssertTrue(counts.allSatisfy { (99...101).contains($0) }, "\(counts)")
        XCTAssertEqual(queue.count, 3_000)
    }

    func testHundredThousandTimersWithRandomCancelsFireInOrder() {
        var queue = TimerQueue<UInt64>()
        var generator = SystemRandomNumberGenerator()
        var ids: [(TimerID, UInt64)] = []
        for _ in 0..<100_000 {
            let deadline = UInt64.random(in: 0..<1_000_000, using: &generator)
            ids.append((queue.schedule(at: deadline, deadline), deadline))
        }
        var cancelled = Set<TimerID>()
        for (id, _) in ids.shuffled().prefix(40_000) {
            XCTAssertTrue(queue.cancel(id))
            cancelled.insert(id)
        }
        XCTAssertEqual(queue.count, 60_000)
        var last: UInt64 = 0
        var fired = 0
        while let (id, deadline) = queue.popExpired(now: .max) {
            XCTAssertFalse(cancelled.contains(id))
            XCTAssertGreaterThanOrEqual(deadline, last)
            last = deadline
            fired += 1
        }
        XCTAssertEqual(fired, 60_000)
    }
}
