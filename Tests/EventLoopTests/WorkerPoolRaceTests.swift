import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

/// Regression tests for the pool's lost wake-ups (issue 17, bugs 2 and 3). Hooks hold a thread inside the window
/// so the interleaving that lost the wake-up happens on every run.
final class WorkerPoolRaceTests: XCTestCase {
    /// Bug 2: `enqueue` set `isPaused` under the queue's lock and registered the queue as paused later, under the
    /// pool's. A worker that drained the queue in between, while the pool was above ¾ of its cap, could not
    /// release it; the pool then fell below ¾ and released the queues registered at that moment: not this one.
    /// Nobody ever called `onDrained`: the room stayed paused and empty forever.
    func testPausedQueueDrainedBeforeRegistrationIsReleased() throws {
        let cap = 1_000
        let pool = WorkerPool(threadCount: 2, globalByteCap: cap)
        defer { pool.shutdown() }
        // Q is being run by a worker (its first job waits for `gate`), not paused, not registered.
        let gate = Semaphore()
        let qRan = Atomic<Bool>(false)
        let qDrained = Atomic<Int>(0)
        let q = SerialQueue(pool: pool, key: 2, highWatermark: .max, lowWatermark: 0) {
            qDrained.add(1, ordering: .relaxed)
        }
        XCTAssertFalse(q.enqueue(cost: 10) { gate.wait() })
        // R then holds the pool above its cap with one blocked job.
        let releaseR = Semaphore()
        let rDrained = Atomic<Bool>(false)
        let r = SerialQueue(pool: pool, key: 1, highWatermark: .max, lowWatermark: .max) {
            rDrained.store(true, ordering: .releasing)
        }
        r.enqueue(cost: 2 * cap) { releaseR.wait() }
        q.afterPauseHook = {
            // Inside the window: Q drains (the pool is still over its cap: no release) ...
            gate.signal()
            XCTAssertTrue(waitUntil(timeout: 5) { qRan.load(ordering: .acquiring) && q.pendingCost == 0 })
            // ... then R finishes and the pool crosses back below ¾, releasing what is registered: not Q yet.
            releaseR.signal()
            XCTAssertTrue(waitUntil(timeout: 5) { rDrained.load(ordering: .acquiring) })
        }
        // Over the pool's cap: Q is told to pause.
        XCTAssertTrue(q.enqueue(cost: 10) { qRan.store(true, ordering: .releasing) }, "Q should have been paused")
        XCTAssertTrue(
            waitUntil(timeout: 2) { qDrained.load(ordering: .relaxed) == 1 },
            "a paused, empty queue was never released (lost wake-up)")
        XCTAssertFalse(q.isRegisteredAsPaused)
    }

    /// The mirror order: released before it was registered, the queue was registered anyway and stayed in the
    /// pool's paused set for good, keeping a removed room's queue alive (a leak).
    func testQueueReleasedBeforeRegistrationLeavesNoStaleEntry() throws {
        let pool = WorkerPool(threadCount: 1, globalByteCap: 1 << 30)
        defer { pool.shutdown() }
        let drained = Atomic<Int>(0)
        let queue = SerialQueue(pool: pool, key: 3, highWatermark: 10, lowWatermark: 0) {
            drained.add(1, ordering: .relaxed)
        }
        let gate = Semaphore()
        XCTAssertFalse(queue.enqueue(cost: 1) { gate.wait() })
        queue.afterPauseHook = {
            // The worker runs both jobs and, the queue being empty and the pool low, releases it at once.
            gate.signal()
            XCTAssertTrue(waitUntil(timeout: 5) { drained.load(ordering: .relaxed) == 1 })
        }
        XCTAssertTrue(queue.enqueue(cost: 100) {}, "above its high mark: pause")
        XCTAssertEqual(drained.load(ordering: .relaxed), 1)
        XCTAssertFalse(queue.isRegisteredAsPaused, "a released queue stayed registered as paused")
    }

    /// Bug 3: an idle worker took a wake-up and found the run queue empty, then checked for shutdown in a second
    /// critical section; a queue put back in between (after its 32 jobs per turn) made it swallow the shutdown
    /// wake-up and stay, so one worker waited forever and `shutdown()` never returned from join.
    func testShutdownNeverHangsWhileQueuesReschedule() throws {
        for round in 0..<3 {
            // The window, widened: a worker that wakes to find nothing runnable dawdles 10 ms before acting on it,
            // and one that put its queue back dawdles 20 ms before taking work again. The idle worker, woken by
            // shutdown, so sees the busy one's queue back in the run queue when it decides whether to exit.
            let pool = WorkerPool(threadCount: 2, globalByteCap: 1 << 30) { step in
                switch step {
                case .foundNothing: usleep(10_000)
                case .putBack: usleep(20_000)
                case .exiting: break
                }
            }
            let queue = SerialQueue(pool: pool, key: 1, highWatermark: .max, lowWatermark: 0)
            let ran = Atomic<Int>(0)
            let jobs = WorkerPool.jobsPerTurn * 6
            for _ in 0..<jobs {
                queue.enqueue(cost: 1) {
                    usleep(20)
                    ran.add(1, ordering: .relaxed)
                }
            }
            usleep(1_000)  // one worker runs the queue, the other is idle when shutdown wakes it
            let returned = Atomic<Bool>(false)
            let thread = try PosixThread.spawn(name: "test-shutdown") {
                pool.shutdown()
                returned.store(true, ordering: .releasing)
            }
            guard waitUntil(timeout: 10, { returned.load(ordering: .acquiring) }) else {
                XCTFail("WorkerPool.shutdown() hung in round \(round) after \(ran.load(ordering: .relaxed)) jobs")
                return  // the thread stays blocked in join; leaving it is all a test can do
            }
            thread.join()
            XCTAssertEqual(ran.load(ordering: .relaxed), jobs, "shutdown must finish every queued job")
        }
    }

    /// Jobs enqueued by jobs while the pool shuts down still run: shutdown drains everything, transitively.
    func testShutdownRunsJobsEnqueuedDuringShutdown() throws {
        let pool = WorkerPool(threadCount: 2)
        let queue = SerialQueue(pool: pool, highWatermark: .max, lowWatermark: 0)
        let ran = Atomic<Int>(0)
        @Sendable func chain(_ remaining: Int) {
            ran.add(1, ordering: .relaxed)
            if remaining > 0 { queue.enqueue(cost: 1) { chain(remaining - 1) } }
        }
        queue.enqueue(cost: 1) {
            usleep(20_000)
            chain(100)
        }
        pool.shutdown()
        XCTAssertEqual(ran.load(ordering: .relaxed), 101)
    }

    /// "`WorkerPool.schedule` after shutdown silently drops work" (issue 17). The pool counted as stopped only
    /// once `shutdown()` had joined every thread; a queue scheduled after the last worker had decided to exit but
    /// before the join ended went into a run queue nobody would read: the job never ran and nothing said so.
    /// Now the last worker marks the pool stopped in the section where it decides to exit, and such a schedule is
    /// a precondition failure that names the queue. A trap ends the process, so the case runs in a fresh runner
    /// process: it must die of the trap with that message, never finish with the job silently dropped.
    func testScheduleAfterTheLastWorkerExitedIsAClearError() throws {
        let marker = "DANMU_SCHEDULE_AFTER_STOP"
        guard FreshProcess.isFreshProcess(marker) else {
            let outcome = FreshProcess.run(
                test: "EventLoopTests.WorkerPoolRaceTests/testScheduleAfterTheLastWorkerExitedIsAClearError",
                marker: marker, timeout: .seconds(120))
            let output = outcome.output.suffix(3000)
            XCTAssertTrue(
                outcome.output.contains("the worker is exiting"), "the child never reached the window:\n\(output)")
            XCTAssertFalse(
                outcome.output.contains("job dropped silently"), "the job vanished without a word:\n\(output)")
            XCTAssertNil(outcome.exitStatus, "the child must die of the trap, not exit:\n\(output)")
            XCTAssertTrue(
                outcome.output.contains("SerialQueue.enqueue after WorkerPool.shutdown() stopped every worker")
                    && outcome.output.contains("queue key 77"),
                "the trap's message:\n\(output)")
            return
        }
        // The only worker, on its way out (the run queue was empty when shutdown woke it), waits at `.exiting`
        // while this thread enqueues.
        let exiting = Semaphore()
        let enqueued = Semaphore()
        let pool = WorkerPool(threadCount: 1, globalByteCap: 1 << 30) { step in
            guard step == .exiting else { return }
            exiting.signal()
            enqueued.wait()
        }
        let queue = SerialQueue(pool: pool, key: 77, highWatermark: .max, lowWatermark: 0)
        let ran = Atomic<Bool>(false)
        let shutdown = try PosixThread.spawn(name: "test-shutdown") { pool.shutdown() }
        exiting.wait()
        print("the worker is exiting")
        fflush(nil)
        queue.enqueue(cost: 1) { ran.store(true, ordering: .releasing) }  // must trap here
        enqueued.signal()
        shutdown.join()
        if !ran.load(ordering: .acquiring) { print("job dropped silently: shutdown() returned, the job never ran") }
        fflush(nil)
    }

    /// The watchdog's view: a job that blocks is named with its queue's key once it held its worker too long.
    func testBusyWorkersNamesTheQueueOfABlockedJob() throws {
        let pool = WorkerPool(threadCount: 2)
        defer { pool.shutdown() }
        let release = Semaphore()
        let queue = SerialQueue(pool: pool, key: 42, highWatermark: .max, lowWatermark: 0)
        queue.enqueue(cost: 1) { release.wait() }
        XCTAssertTrue(waitUntil(timeout: 5) { !pool.busyWorkers(longerThan: .milliseconds(50)).isEmpty })
        let busy = pool.busyWorkers(longerThan: .milliseconds(50))
        XCTAssertEqual(busy.map(\.key), [42])
        XCTAssertGreaterThan(busy[0].seconds, 0.05)
        XCTAssertTrue(pool.busyWorkers(longerThan: .seconds(60)).isEmpty)
        release.signal()
        XCTAssertTrue(waitUntil(timeout: 5) { pool.busyWorkers(longerThan: .zero).isEmpty })
    }
}
