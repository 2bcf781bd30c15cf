import DanmuSimulator
import EventLoop
import Glibc
import Synchronization
import XCTest

@testable import DanmuClient

/// `Configuration.onBatchTimings` (latency attribution) and the live rooms' timer leeway.
final class BatchTimingsTests: XCTestCase {
    func testEveryBatchReportsItsStagesInOrderWithItsEvents() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...2), ratePerRoom: 0, messageLimitPerRoom: 200, batchSize: 10, mix: danmakuOnly))
        defer { simulator.close() }
        let seen = Lock<(batches: Int, events: Int, disordered: [String], handled: Int)>((0, 0, [], 0))
        var configuration = testCollectorConfiguration(server: simulator.server)
        let before = SystemClock.monotonicNanoseconds()
        configuration.onBatchTimings = { timings, events in
            seen.withLock { state in
                state.batches += 1
                state.events += events.filter { if case .danmaku = $0.event { true } else { false } }.count
                let stages = [
                    before, timings.loopWokeAt, timings.queuedAt, timings.startedAt, timings.decodedAt,
                    timings.handlerCalledAt, timings.handlerReturnedAt,
                ]
                if stages != stages.sorted() { state.disordered.append("\(timings)") }
                if events.contains(where: { $0.room != timings.room }) { state.disordered.append("room") }
            }
        }
        let handled = Lock(0)
        let collector = try startCollector(
            configuration,
            handler: DanmuHandlers(event: { event in
                if case .danmaku = event.event { handled.withLock { $0 += 1 } }
            }), rooms: [1, 2])
        defer { collector.shutdown() }
        XCTAssertTrue(waitUntil { seen.withLock { $0.events } == 400 })
        let state = seen.withLock { $0 }
        XCTAssertEqual(state.disordered, [], "stage times run forwards: woke ≤ queued ≤ started ≤ … ≤ returned")
        XCTAssertGreaterThan(state.batches, 0)
        XCTAssertEqual(handled.withLock { $0 }, 400, "the handler saw every event the timings named")
    }

    func testLiveLeewayIsCappedBySixteenthOfTheHeartbeatAndTheWatchdog() {
        var timing = RoomTiming()
        XCTAssertEqual(timing.liveLeeway, .seconds(1), "30 s heartbeats, 70 s watchdog: the 1 s default")
        timing.heartbeatInterval = .milliseconds(320)
        XCTAssertEqual(timing.liveLeeway, .milliseconds(20))
        timing.heartbeatInterval = .seconds(30)
        timing.watchdogTimeout = .milliseconds(160)
        XCTAssertEqual(timing.liveLeeway, .milliseconds(10))
        timing.liveTimerLeeway = .zero
        XCTAssertEqual(timing.liveLeeway, .zero)
    }
}
