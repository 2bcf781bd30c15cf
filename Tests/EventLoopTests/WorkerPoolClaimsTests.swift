import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

/// Claims of architecture.md about the worker pool and the reactor that no other test pinned down: the default
/// worker count, the 32-job turn, RLIMIT_NOFILE and the loop-confinement trap.
final class WorkerPoolClaimsTests: XCTestCase {
    /// The names of this process's threads (/proc/self/task/*/comm).
    private func threadNames() -> [String] {
        TestFiles.list("/proc/self/task").compactMap { tid in
            TestFiles.read("/proc/self/task/\(tid)/comm").map {
                String(decoding: $0.filter { $0 != 10 }, as: UTF8.self)
            }
        }
    }

    /// `WorkerPool()` starts cores − 1 worker threads, at least 1: counted as threads named danmu-worker-N that
    /// appear in /proc/self/task, against the online CPU count read here.
    func testDefaultPoolStartsCoresMinusOneThreadsAtLeastOne() {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let expected = max(1, cores - 1)
        // Workers of earlier tests may still be exiting: start from two equal readings in a row (every 100 ms, ≤ 3 s).
        var before = threadNames().count { $0.hasPrefix("danmu-worker-") }
        _ = pollUntil(timeout: .seconds(3), interval: .milliseconds(100)) {
            let now = threadNames().count { $0.hasPrefix("danmu-worker-") }
            defer { before = now }
            return now == before
        }
        let pool = WorkerPool()
        defer { pool.shutdown() }
        XCTAssertEqual(pool.threadCount, expected, "\(cores) cores")
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(10)) {
                threadNames().count { $0.hasPrefix("danmu-worker-") } - before == expected
            }, "worker threads: \(threadNames())")
        let started = threadNames().count { $0.hasPrefix("danmu-worker-") } - before
        XCTAssertEqual(started, expected, "\(cores) cores: threads \(threadNames())")
    }

    /// One worker, two queues of 100 jobs each, both waiting before the worker is free: the worker runs 32 of
    /// A, then 32 of B, and so on (runs 32, 32, 32, 32, 32, 32, 4, 4), never all of A first.
    func testAQueueYieldsToTheOtherAfter32Jobs() {
        XCTAssertEqual(WorkerPool.jobsPerTurn, 32)
        let pool = WorkerPool(threadCount: 1)
        defer { pool.shutdown() }
        let gate = Semaphore()
        let blocking = SerialQueue(pool: pool, key: 0, highWatermark: .max, lowWatermark: 0)
        let a = SerialQueue(pool: pool, key: 1, highWatermark: .max, lowWatermark: 0)
        let b = SerialQueue(pool: pool, key: 2, highWatermark: .max, lowWatermark: 0)
        let order = Lock<[Character]>([])
        let done = Atomic<Int>(0)
        // Hold the only worker so both queues are scheduled with all their jobs before any of them runs.
        blocking.enqueue(cost: 0) { gate.wait() }
        for _ in 0..<100 {
            a.enqueue(cost: 0) {
                order.withLock { $0.append("A") }
                done.add(1, ordering: .relaxed)
            }
        }
        for _ in 0..<100 {
            b.enqueue(cost: 0) {
                order.withLock { $0.append("B") }
                done.add(1, ordering: .relaxed)
            }
        }
        gate.signal()
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(5)) { done.load(ordering: .relaxed) == 200 })
        let sequence = order.withLock { $0 }
        var runs: [String] = []
        for job in sequence {
            if let last = runs.last, last.first == job {
                runs[runs.count - 1].append(job)
            } else {
                runs.append(String(job))
            }
        }
        let described = runs.map { "\($0.first!)×\($0.count)" }
        XCTAssertEqual(runs.map(\.count), [32, 32, 32, 32, 32, 32, 4, 4], "runs: \(described)")
        XCTAssertEqual(runs.first?.first, "A")
    }

    /// `Reactor()` raises the RLIMIT_NOFILE soft limit to the hard limit: lowered here first (to 256, or the hard
    /// limit when that is lower), then restored whatever happens.
    func testInitRaisesTheFileLimitToTheHardLimit() throws {
        var original = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &original), 0)
        defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &original) }
        let hard = original.rlim_max
        // No skip for odd hard limits: a low one is lowered below, an unlimited one is checked for "never lowered"
        // (the kernel refuses RLIM_INFINITY for RLIMIT_NOFILE; capping at fs.nr_open is not implemented).
        let low = min(256, max(1, hard / 2))
        var lowered = original
        lowered.rlim_cur = low
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered), 0, "errno \(errno)")
        var check = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &check)
        XCTAssertEqual(check.rlim_cur, low, "the limit was lowered")

        let reactor = try Reactor()
        var after = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &after)
        if hard == rlim_t.max {
            XCTAssertGreaterThanOrEqual(after.rlim_cur, low, "Reactor() must never lower the soft limit")
        } else {
            XCTAssertEqual(after.rlim_cur, hard, "soft limit after Reactor()")
        }
        _ = reactor

        // And the switch that turns it off.
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered), 0)
        var configuration = Reactor.Configuration()
        configuration.raiseFileLimit = false
        let quiet = try Reactor(configuration: configuration)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &after)
        XCTAssertEqual(after.rlim_cur, low, "raiseFileLimit = false leaves the limit alone")
        _ = quiet
    }

    /// Loop-confined state traps when touched from another thread. A trap ends the process, so the touching runs
    /// in a fresh test-runner process (FreshProcess): it must die of a signal with the confinement message, and
    /// the same call made through `execute` first must have worked.
    func testLoopConfinedCallFromAnotherThreadTraps() throws {
        let marker = "DANMU_LOOP_CONFINEMENT_TRAP"
        guard FreshProcess.isFreshProcess(marker) else {
            let outcome = FreshProcess.run(
                test: "EventLoopTests.WorkerPoolClaimsTests/testLoopConfinedCallFromAnotherThreadTraps",
                marker: marker, timeout: .seconds(120))
            let output = outcome.output.suffix(3000)
            XCTAssertNil(outcome.exitStatus, "the child must die of the trap, not exit:\n\(output)")
            XCTAssertTrue(outcome.output.contains("on the loop: false"), "execute's call ran first:\n\(output)")
            XCTAssertTrue(
                outcome.output.contains("Reactor.isOpen(_:) must run on the reactor's IO thread"),
                "the trap's message:\n\(output)")
            XCTAssertFalse(outcome.output.contains("still alive after the off-loop call"), "\(output)")
            return
        }
        let reactor = try Reactor()
        try reactor.start()
        let id = ConnectionID(slot: 0, generation: 0)
        let onLoop = reactor.executeAndWait { reactor.isOpen(id) }
        print("on the loop: \(onLoop.map(String.init(describing:)) ?? "nil")")
        fflush(nil)
        _ = reactor.isOpen(id)  // from the test thread: must trap here
        print("still alive after the off-loop call")
        fflush(nil)
        reactor.shutdown()
    }
}
