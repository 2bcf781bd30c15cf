import DanmuClient
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// Between the workers and the loop: a bounded inbox that holds a publishing worker back instead of losing events.
final class FanoutBackpressureTests: XCTestCase {
    /// Holds the loop busy until `release()`, as a flood of work would.
    final class LoopBlocker: @unchecked Sendable {
        let started = Semaphore()
        let gate = Semaphore()
        init(_ reactor: Reactor) {
            reactor.execute { [self] in
                started.signal()
                gate.wait()
            }
            started.wait()
        }
        func release() { gate.signal() }
    }

    func testFullInboxHoldsThePublisherBackUntilTheLoopDrainsAndLosesNothing() throws {
        try withHub(.init(maxQueuedEvents: 4, maxPublishWait: .seconds(30), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            let blocker = LoopBlocker(reactor)
            let returned = Lock(0)
            let publisher = try PosixThread.spawn(name: "publisher") {
                hub.handle(batch: (1...4).map { danmaku(1, "first \($0)") })
                returned.withLock { $0 += 1 }
                hub.handle(batch: (1...4).map { danmaku(2, "second \($0)") })
                returned.withLock { $0 += 1 }
            }
            XCTAssertTrue(
                pollUntil(timeout: .seconds(20), interval: .milliseconds(5)) { returned.withLock { $0 } == 1 })
            // The inbox holds 4 = maxQueuedEvents: the second batch waits for the loop, however long it takes.
            usleep(200_000)
            XCTAssertEqual(returned.withLock { $0 }, 1)
            blocker.release()
            publisher.join()
            XCTAssertEqual(returned.withLock { $0 }, 2)
            _ = reactor.executeAndWait { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, (1...8).map { "77-\($0)" })
            XCTAssertEqual(hub.statistics.eventsDropped, 0)
        }
    }

    func testAStalledLoopHoldsThePublisherAtMostMaxPublishWaitThenQueuesAnyway() throws {
        try withHub(.init(maxQueuedEvents: 2, maxPublishWait: .milliseconds(50), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            let blocker = LoopBlocker(reactor)
            // With the loop stuck, every batch after the first waits 50 ms and is then queued: the call returns.
            for batch in 0..<3 { hub.handle(batch: [danmaku(1, "\(batch)a"), danmaku(1, "\(batch)b")]) }
            blocker.release()
            _ = reactor.executeAndWait { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, (1...6).map { "77-\($0)" })
            XCTAssertEqual(hub.statistics.eventsDropped, 0)
        }
    }

    func testPublishingOnTheIOThreadNeverWaits() throws {
        try withHub(.init(maxQueuedEvents: 1, maxPublishWait: .seconds(30), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            // On the loop a wait would be for itself: both batches queue at once and are delivered by the next drain.
            onLoop(reactor) {
                hub.handle(batch: [danmaku(1, "a"), danmaku(1, "b")])
                hub.handle(batch: [danmaku(1, "c")])
            }
            _ = reactor.executeAndWait { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-1", "77-2", "77-3"])
        }
    }

    func testEventsBeforeTheReactorRunsAreDroppedAndCounted() throws {
        let reactor = try Reactor()
        let hub = EventHub(reactor: reactor)
        hub.handle(batch: [danmaku(1, "too early"), danmaku(2, "too early")])
        XCTAssertEqual(hub.statistics.eventsDropped, 2)
        XCTAssertEqual(hub.statistics.eventsPublished, 0)
        hub.close()
        reactor.shutdown()
    }
}
