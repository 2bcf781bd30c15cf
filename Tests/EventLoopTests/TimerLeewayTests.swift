import Glibc
import XCTest

@testable import EventLoop

/// Timers with a leeway (`Reactor.schedule(at:leeway:)`): deadlines aligned to the leeway's grid share one wake-up
/// of the loop, and none fires early.
final class TimerLeewayTests: XCTestCase {
    func testAlignRoundsUpToTheLeewayGrid() {
        let second: UInt64 = 1_000_000_000
        XCTAssertEqual(Reactor.align(1_500_000_000, leeway: .seconds(1)), 2 * second)
        XCTAssertEqual(Reactor.align(2 * second, leeway: .seconds(1)), 2 * second, "on the grid: unchanged")
        XCTAssertEqual(Reactor.align(2 * second + 1, leeway: .seconds(1)), 3 * second)
        XCTAssertEqual(Reactor.align(1_234_567, leeway: .milliseconds(100)), 100_000_000)
    }

    func testLeewayUnderOneMillisecondChangesNothing() {
        XCTAssertEqual(Reactor.align(1_234_567, leeway: .zero), 1_234_567)
        XCTAssertEqual(Reactor.align(1_234_567, leeway: .microseconds(999)), 1_234_567)
    }

    func testAlignNearTheDistantFutureSaturatesInsteadOfWrapping() {
        let far = Reactor.distantFuture - 5
        XCTAssertEqual(Reactor.align(far, leeway: .seconds(1)), Reactor.distantFuture)
        XCTAssertEqual(Reactor.align(UInt64.max, leeway: .seconds(1)), Reactor.distantFuture)
        XCTAssertEqual(Reactor.align(UInt64.max, leeway: .zero), Reactor.distantFuture)
    }

    /// 40 timers due 3 ms apart inside one 200 ms grid interval: with the leeway they fire in ONE loop turn, at or
    /// after the interval's end; each in its own millisecond they took several turns.
    func testTimersDueInOneLeewayIntervalFireInOneTurn() throws {
        try withReactor { reactor in
            let fired = Lock<[(turn: Int, at: UInt64, index: Int)]>([])
            let boundary = try onLoop(reactor) { () -> UInt64 in
                let boundary = Reactor.align(reactor.now, leeway: .milliseconds(200)) + 200_000_000
                for index in 0..<40 {
                    let deadline = boundary - 150_000_000 + UInt64(index) * 3_000_000
                    reactor.schedule(at: deadline, leeway: .milliseconds(200)) {
                        let turn = reactor.turnCount
                        let now = reactor.now
                        fired.withLock { $0.append((turn, now, index)) }
                    }
                }
                return boundary
            }
            XCTAssertTrue(waitUntil(timeout: 5) { fired.withLock { $0.count } == 40 })
            let record = fired.withLock { $0 }
            XCTAssertEqual(Set(record.map(\.turn)).count, 1, "one wake-up for the whole interval")
            XCTAssertEqual(record.map(\.index), Array(0..<40), "deadline order kept")
            for entry in record { XCTAssertGreaterThanOrEqual(entry.at, boundary, "never early") }
        }
    }
}
