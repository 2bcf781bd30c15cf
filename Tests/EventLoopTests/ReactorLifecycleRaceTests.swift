import Glibc
import Synchronization
import XCTest

@testable import EventLoop

/// Regression tests for races between `start`, `execute` and `shutdown` (issue 17, bug 1 and "also found").
/// Each race is widened with a test hook so it happens every run instead of once in thousands.
final class ReactorLifecycleRaceTests: XCTestCase {
    /// `DanmuCollector.shutdown()`'s own sequence: a task runs (waking the loop), its caller then shuts down.
    /// Before the fix `shutdown()` wrote the eventfd after releasing its lock; the loop, still in the turn woken by
    /// the task, saw `.shuttingDown`, closed everything, and the late write hit a closed descriptor (the syscall
    /// helper traps on EBADF: the test process died) or one that had been reused by then.
    func testShutdownRightAfterATaskNeverWritesAClosedEventfd() throws {
        for _ in 0..<3 {
            let reactor = try Reactor()
            // Hold the shutdown caller between "state is .shuttingDown" and "eventfd written" long enough for the
            // loop to finish its turn; then open descriptors, which would reuse a closed eventfd's number.
            let reused = Lock<[Int32]>([])
            reactor.testHooks.beforeShutdownWake = {
                usleep(100_000)
                let fd = (try? EventFd.eventfd()) ?? -1
                reused.withLock { $0.append(fd) }
            }
            try reactor.start()
            let ran = Semaphore()
            XCTAssertTrue(
                reactor.execute {
                    ran.signal()
                    usleep(30_000)  // the loop is still in this turn when shutdown() sets the state
                })
            ran.wait()
            reactor.shutdown()
            // The new descriptor must not have received the reactor's wake-up.
            for fd in reused.withLock({ $0 }) where fd >= 0 {
                var count: UInt64 = 0
                XCTAssertEqual(read(fd, &count, 8), -1, "a wake-up landed in a reused descriptor (count \(count))")
                close(fd)
            }
        }
    }

    /// Bug 1's other half: `execute()` also wrote the eventfd after releasing its lock. A task accepted, then a
    /// `shutdown()` from another thread before the write: the loop ran the task, closed everything, and the late
    /// write hit a closed descriptor (EBADF trap) or, as here, a new eventfd that had reused the number.
    func testExecuteRacingShutdownNeverWritesAClosedEventfd() throws {
        for _ in 0..<3 {
            let reactor = try Reactor()
            let armed = Atomic<Bool>(false)
            let inWindow = Semaphore()
            let reused = Lock<[Int32]>([])
            // The armed execute stops between "task accepted" and "eventfd written" while shutdown() runs; then
            // it opens a descriptor, which would take a closed eventfd's number.
            reactor.testHooks.beforeExecuteWake = {
                guard armed.exchange(false, ordering: .acquiringAndReleasing) else { return }
                inWindow.signal()
                usleep(150_000)
                let fd = (try? EventFd.eventfd()) ?? -1
                reused.withLock { $0.append(fd) }
            }
            try reactor.start()
            let ran = Atomic<Bool>(false)
            armed.store(true, ordering: .releasing)
            let submitter = try PosixThread.spawn(name: "test-execute") {
                _ = reactor.execute { ran.store(true, ordering: .releasing) }
            }
            inWindow.wait()
            reactor.shutdown()
            submitter.join()
            XCTAssertTrue(ran.load(ordering: .acquiring), "an accepted task must run before shutdown() returns")
            for fd in reused.withLock({ $0 }) where fd >= 0 {
                var count: UInt64 = 0
                XCTAssertEqual(read(fd, &count, 8), -1, "a wake-up landed in a reused descriptor (count \(count))")
                close(fd)
            }
        }
    }

    /// `start()` failing while `shutdown()` runs used to overwrite `.shuttingDown` with `.idle`; the shutdown
    /// caller then waited forever for a loop that never existed.
    func testFailedStartDuringShutdownLetsShutdownReturn() throws {
        let reactor = try Reactor()
        let shutdownReturned = Atomic<Bool>(false)
        let acceptedWhileStarting = Atomic<Bool>(false)
        let shutdownThread = Lock<PosixThread?>(nil)
        reactor.testHooks.beforeSpawn = { () throws(SystemError) in
            // A task offered while the thread does not exist yet must be refused, not accepted and dropped.
            acceptedWhileStarting.store(reactor.execute {}, ordering: .relaxed)
            let thread = try? PosixThread.spawn(name: "test-shutdown") {
                reactor.shutdown()
                shutdownReturned.store(true, ordering: .releasing)
            }
            shutdownThread.withLock { $0 = thread }
            // Wait until shutdown() has taken over the lifecycle, then fail as pthread_create would.
            XCTAssertTrue(waitUntil(timeout: 5) { reactor.shared.withLock { $0.lifecycle == .shuttingDown } })
            throw SystemError(.again, operation: "pthread_create")
        }
        XCTAssertThrowsError(try reactor.start())
        XCTAssertTrue(
            waitUntil(timeout: 5) { shutdownReturned.load(ordering: .acquiring) },
            "shutdown() never returned after a failed start")
        shutdownThread.withLock { $0 }?.join()
        XCTAssertFalse(acceptedWhileStarting.load(ordering: .relaxed), "execute accepted a task no thread would run")
        XCTAssertEqual(reactor.shared.withLock { $0.lifecycle }, .closed)
        XCTAssertThrowsError(try reactor.start())
    }

    /// A failed start with no shutdown returns the reactor to idle: it can be started again and works.
    func testFailedStartCanBeRetried() throws {
        let reactor = try Reactor()
        let failures = Atomic<Int>(1)
        reactor.testHooks.beforeSpawn = { () throws(SystemError) in
            if failures.subtract(1, ordering: .relaxed).newValue >= 0 {
                throw SystemError(.again, operation: "pthread_create")
            }
        }
        XCTAssertThrowsError(try reactor.start())
        try reactor.start()
        let ran = Semaphore()
        XCTAssertTrue(reactor.execute { ran.signal() })
        ran.wait()
        reactor.shutdown()
    }

    /// `Duration` → nanoseconds and `now + delay` used to wrap: a timer meant for the far future fired at once.
    func testHugeDelayNeverFires() throws {
        try withReactor { reactor in
            let fired = Atomic<Int>(0)
            let delays: [Duration] = [.seconds(Int64.max), .seconds(1 << 40), .seconds(18_446_744_074)]
            _ = try onLoop(reactor) {
                for delay in delays {
                    reactor.schedule(after: delay) { fired.add(1, ordering: .relaxed) }
                }
                reactor.schedule(after: .milliseconds(1), repeating: .seconds(Int64.max)) {
                    fired.add(100, ordering: .relaxed)
                }
            }
            sleepMilliseconds(300)
            // The repeating timer fires once (after 1 ms), then its next deadline saturates instead of wrapping.
            XCTAssertEqual(fired.load(ordering: .relaxed), 100)
            XCTAssertEqual(try onLoop(reactor) { reactor.pendingTimerCount }, delays.count + 1)
        }
    }

    func testDurationNanosecondsSaturates() {
        XCTAssertEqual(Duration.seconds(Int64.max).nanoseconds, Reactor.distantFuture)
        XCTAssertEqual(Duration.seconds(-5).nanoseconds, 0)
        XCTAssertEqual(Duration.milliseconds(1_500).nanoseconds, 1_500_000_000)
        XCTAssertEqual(Duration.nanoseconds(7).nanoseconds, 7)
    }

    /// `Reactor.write` used `write(2)`: to a peer that is gone it raised SIGPIPE on the IO thread, where it stays
    /// pending (the loop thread blocks it) until anything unblocks it and the process dies. `send(MSG_NOSIGNAL)`
    /// reports EPIPE and raises nothing.
    func testWriteToAGonePeerRaisesNoSIGPIPE() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let box = UncheckedBox(value: client)
            let id = try onLoop(reactor) { try reactor.connect(to: address, timeout: .seconds(5), handler: box.value) }
            XCTAssertTrue(waitUntil { client.snapshot.opened == 1 && listener.accepted.withLock { $0.count } == 1 })
            // The server side closes: reset on the next write, then EPIPE for the one after. The client is not
            // reading, so it cannot learn of the close from the FIN and writes into the dead socket.
            _ = try onLoop(reactor) {
                reactor.pauseReading(id)
                for (accepted, _) in listener.accepted.withLock({ $0 }) { reactor.close(accepted) }
            }
            sleepMilliseconds(50)
            let pending = try onLoop(reactor) { () -> Bool in
                for _ in 0..<3 {
                    reactor.write(id, [1, 2, 3])
                    usleep(20_000)
                }
                var set = sigset_t()
                sigpending(&set)
                return sigismember(&set, SIGPIPE) == 1
            }
            XCTAssertFalse(pending, "a write raised SIGPIPE on the IO thread")
            XCTAssertTrue(waitUntil { !client.snapshot.closes.isEmpty }, "the write error did not close the connection")
        }
    }
}
