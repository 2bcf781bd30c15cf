import Glibc
import Synchronization
import XCTest

@testable import EventLoop

final class ReactorBasicsTests: XCTestCase {
    func testEchoOverLoopback() throws {
        try withReactor { reactor in
            let (_, address) = try listenOnLoopback(reactor, EchoListener(reactor: reactor))
            let client = RecordingHandler()
            let payload = patternBytes(count: 300_000)
            let box = UncheckedBox(value: client)
            _ = try onLoop(reactor) {
                let id = try reactor.connect(to: address, timeout: .seconds(5), handler: box.value)
                reactor.write(id, payload)  // queued before the connect finishes
                return id
            }
            XCTAssertTrue(waitUntil { client.snapshot.received.count >= payload.count })
            let record = client.snapshot
            XCTAssertEqual(record.opened, 1)
            XCTAssertEqual(record.received, payload)
            XCTAssertEqual(record.closes, [])
        }
    }

    func testExecuteRunsTasksInOrder() throws {
        try withReactor { reactor in
            let seen = Lock<[Int]>([])
            for index in 0..<1_000 {
                XCTAssertTrue(reactor.execute { seen.withLock { $0.append(index) } })
            }
            XCTAssertTrue(waitUntil { seen.withLock { $0.count } == 1_000 })
            XCTAssertEqual(seen.withLock { $0 }, Array(0..<1_000))
        }
    }

    func testExecuteAfterShutdownIsRefused() throws {
        let reactor = try Reactor()
        try reactor.start()
        reactor.shutdown()
        reactor.shutdown()
        XCTAssertFalse(reactor.execute {})
    }

    func testTimersFireInDeadlineOrderOnTheTimerfd() throws {
        try withReactor { reactor in
            let fired = Lock<[Int]>([])
            try onLoop(reactor) {
                for (index, delay) in [30, 10, 20, 5, 25].enumerated() {
                    reactor.schedule(after: .milliseconds(delay)) { fired.withLock { $0.append(index) } }
                }
                let cancelled = reactor.schedule(after: .milliseconds(15)) { fired.withLock { $0.append(99) } }
                reactor.cancel(cancelled)
                reactor.cancel(cancelled)  // idempotent
            }
            XCTAssertTrue(waitUntil { fired.withLock { $0.count } == 5 })
            sleepMilliseconds(30)
            XCTAssertEqual(fired.withLock { $0 }, [3, 1, 2, 4, 0])
        }
    }

    func testRepeatingTimerRepeatsUntilCancelled() throws {
        try withReactor { reactor in
            let count = Lock(0)
            let timer = try onLoop(reactor) {
                reactor.schedule(after: .milliseconds(1), repeating: .milliseconds(5)) { count.withLock { $0 += 1 } }
            }
            XCTAssertTrue(waitUntil { count.withLock { $0 } >= 5 })
            try onLoop(reactor) { reactor.cancel(timer) }
            let after = count.withLock { $0 }
            sleepMilliseconds(40)
            XCTAssertEqual(count.withLock { $0 }, after)
            XCTAssertEqual(try onLoop(reactor) { reactor.pendingTimerCount }, 0)
        }
    }
}
