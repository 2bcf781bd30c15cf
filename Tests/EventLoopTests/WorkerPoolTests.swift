import Glibc
import Synchronization
import XCTest

@testable import EventLoop

final class WorkerPoolTests: XCTestCase {
    func testSerialQueueOrderUnderContention() throws {
        let pool = WorkerPool(threadCount: 4)
        defer { pool.shutdown() }
        let queueCount = 50
        let producers = 4
        let perProducer = 2_000
        let queues = (0..<queueCount).map { _ in SerialQueue(pool: pool, highWatermark: .max, lowWatermark: 0) }
        // Per queue: a running flag (never two at once) and the last sequence seen from each producer.
        let running = (0..<queueCount).map { _ in Flag() }
        let lastSeen = Lock([[Int]](repeating: [Int](repeating: -1, count: producers), count: queueCount))
        let overlaps = Atomic<Int>(0)
        let disorders = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let box = UncheckedBox(value: running)
        var threads: [PosixThread] = []
        for producer in 0..<producers {
            threads.append(
                try PosixThread.spawn(name: "producer") {
                    for sequence in 0..<perProducer {
                        for (index, queue) in queues.enumerated() where (index + sequence) % 3 != 0 {
                            queue.enqueue(cost: 1) {
                                if box.value[index].value.exchange(true, ordering: .acquiring) {
                                    overlaps.add(1, ordering: .relaxed)
                                }
                                lastSeen.withLock { seen in
                                    if seen[index][producer] >= sequence { disorders.add(1, ordering: .relaxed) }
                                    seen[index][producer] = sequence
                                }
                                box.value[index].value.store(false, ordering: .releasing)
                                done.add(1, ordering: .relaxed)
                            }
                        }
                    }
                })
        }
        for thread in threads { thread.join() }
        let expected =
            producers
            * (0..<perProducer).reduce(0) { sum, sequence in
                sum + (0..<queueCount).filter { ($0 + sequence) % 3 != 0 }.count
            }
        XCTAssertTrue(waitUntil(timeout: 120) { done.load(ordering: .relaxed) == expected })
        XCTAssertEqual(overlaps.load(ordering: .relaxed), 0)
        XCTAssertEqual(disorders.load(ordering: .relaxed), 0)
        XCTAssertTrue(queues.allSatisfy { $0.pendingCost == 0 })
    }

    func testDifferentQueuesRunInParallel() throws {
        let pool = WorkerPool(threadCount: 2)
        defer { pool.shutdown() }
        let a = SerialQueue(pool: pool, highWatermark: .max, lowWatermark: 0)
        let b = SerialQueue(pool: pool, highWatermark: .max, lowWatermark: 0)
        // Each job waits for the other queue's job: this only finishes if both run at the same time.
        let arrivals = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        for queue in [a, b] {
            queue.enqueue(cost: 1) {
                arrivals.add(1, ordering: .relaxed)
                _ = waitUntil(timeout: 10) { arrivals.load(ordering: .relaxed) == 2 }
                finished.add(1, ordering: .relaxed)
            }
        }
        XCTAssertTrue(waitUntil { finished.load(ordering: .relaxed) == 2 })
        XCTAssertEqual(arrivals.load(ordering: .relaxed), 2)
    }

    func testWatermarksAskForPauseAndDrainResumesOnce() throws {
        let pool = WorkerPool(threadCount: 1)
        defer { pool.shutdown() }
        let drained = Atomic<Int>(0)
        let gate = Semaphore()
        let queue = SerialQueue(pool: pool, highWatermark: 100, lowWatermark: 20) {
            drained.add(1, ordering: .relaxed)
        }
        // The first job blocks the queue until the gate opens.
        XCTAssertFalse(queue.enqueue(cost: 10) { gate.wait() })
        var pauses: [Bool] = []
        for _ in 0..<12 { pauses.append(queue.enqueue(cost: 10) {}) }
        // 10 + 9×10 = 100 is not above the mark; the 10th job (110) is.
        XCTAssertEqual(pauses, [Bool](repeating: false, count: 9) + [Bool](repeating: true, count: 3))
        XCTAssertEqual(queue.pendingCost, 130)
        sleepMilliseconds(20)
        XCTAssertEqual(drained.load(ordering: .relaxed), 0)
        gate.signal()
        XCTAssertTrue(waitUntil { queue.pendingCost == 0 })
        XCTAssertTrue(waitUntil { drained.load(ordering: .relaxed) == 1 })
        sleepMilliseconds(20)
        XCTAssertEqual(drained.load(ordering: .relaxed), 1, "onDrained must run once per pause")
        XCTAssertFalse(queue.enqueue(cost: 10) {})
    }

    func testGlobalByteCapPausesEveryQueueAndReleasesThem() throws {
        let pool = WorkerPool(threadCount: 1, globalByteCap: 1_000)
        defer { pool.shutdown() }
        let gate = Semaphore()
        let released = Atomic<Int>(0)
        let queues = (0..<3).map { _ in
            SerialQueue(pool: pool, highWatermark: 10_000, lowWatermark: 5_000) { released.add(1, ordering: .relaxed) }
        }
        XCTAssertFalse(queues[0].enqueue(cost: 600) { gate.wait() })
        XCTAssertFalse(queues[1].enqueue(cost: 300) {})
        // 1,000 is not above the cap; 1,001 is: queue 2 must pause although its own backlog is tiny.
        XCTAssertFalse(queues[2].enqueue(cost: 100) {})
        XCTAssertTrue(queues[2].enqueue(cost: 1) {})
        // While the pool is over its cap, every queue's next job pauses it, whatever its own backlog.
        XCTAssertTrue(queues[0].enqueue(cost: 1) {}, "queue 0 must pause above the global cap")
        XCTAssertTrue(queues[1].enqueue(cost: 1) {}, "queue 1 must pause above the global cap")
        sleepMilliseconds(20)
        XCTAssertEqual(released.load(ordering: .relaxed), 0, "nothing is released while the first job blocks")
        gate.signal()
        XCTAssertTrue(waitUntil { queues.allSatisfy { $0.pendingCost == 0 } })
        // Each of the three paused queues is released, exactly once.
        XCTAssertTrue(
            waitUntil { released.load(ordering: .relaxed) == 3 }, "released: \(released.load(ordering: .relaxed))")
        sleepMilliseconds(20)
        XCTAssertEqual(released.load(ordering: .relaxed), 3, "onDrained must run once per paused queue")
    }

    func testShutdownFinishesQueuedJobs() {
        let pool = WorkerPool(threadCount: 2)
        let ran = Atomic<Int>(0)
        let queues = (0..<8).map { _ in SerialQueue(pool: pool, highWatermark: .max, lowWatermark: 0) }
        for index in 0..<8_000 { queues[index % 8].enqueue(cost: 1) { ran.add(1, ordering: .relaxed) } }
        pool.shutdown()
        pool.shutdown()
        XCTAssertEqual(ran.load(ordering: .relaxed), 8_000)
    }

    /// End to end: a socket's bytes go through a slow serial queue; the watermarks pause and resume the socket;
    /// every byte arrives, in order.
    func testMailboxFullPausesReadingAndResumesLosslessly() throws {
        let pool = WorkerPool(threadCount: 1)
        defer { pool.shutdown() }
        try withReactor { reactor in
            let sink = Lock<[UInt8]>([])
            let pauses = Atomic<Int>(0)
            let serverIDs = Lock<[ConnectionID]>([])
            let queue = SerialQueue(pool: pool, highWatermark: 64 << 10, lowWatermark: 8 << 10) {
                reactor.execute { for id in serverIDs.withLock({ $0 }) { reactor.resumeReading(id) } }
            }
            let listener = AcceptingListener { id in
                serverIDs.withLock { $0.append(id) }
                let handler = RecordingHandler()
                handler.onRead = { id, bytes in
                    let copy = Array(bytes)
                    let pause = queue.enqueue(cost: copy.count) {
                        usleep(200)  // a slow consumer
                        sink.withLock { $0.append(contentsOf: copy) }
                    }
                    if pause {
                        pauses.add(1, ordering: .relaxed)
                        reactor.pauseReading(id)
                    }
                }
                return handler
            }
            let (_, address) = try listenOnLoopback(reactor, listener)
            let payload = patternBytes(count: 4 << 20)
            let client = RecordingHandler()
            try onLoop(reactor) {
                let id = try reactor.connect(to: address, timeout: .seconds(5), handler: client)
                reactor.write(id, payload)
            }
            XCTAssertTrue(waitUntil(timeout: 120) { sink.withLock { $0.count } >= payload.count })
            XCTAssertTrue(sink.withLock { $0 == payload })
            XCTAssertGreaterThan(pauses.load(ordering: .relaxed), 0)
        }
    }
}

private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}
