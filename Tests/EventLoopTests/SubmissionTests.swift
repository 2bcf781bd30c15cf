import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

final class SubmissionTests: XCTestCase {
    func testFourThreadsSubmittingMillionTasksLoseNone() throws {
        try withReactor { reactor in
            let producers = 4
            let perProducer = 250_000
            // Loop-confined counters, only touched by the tasks (on the IO thread).
            let counts = UncheckedBox(value: UnsafeMutableBufferPointer<Int>.allocate(capacity: producers))
            counts.value.initialize(repeating: 0)
            defer { counts.value.deallocate() }
            let outOfOrder = Atomic<Int>(0)
            let done = Atomic<Int>(0)
            var threads: [PosixThread] = []
            for producer in 0..<producers {
                threads.append(
                    try PosixThread.spawn(name: "producer") {
                        for sequence in 0..<perProducer {
                            let accepted = reactor.execute {
                                if counts.value[producer] != sequence { outOfOrder.add(1, ordering: .relaxed) }
                                counts.value[producer] = sequence + 1
                                done.add(1, ordering: .relaxed)
                            }
                            precondition(accepted)
                        }
                    })
            }
            for thread in threads { thread.join() }
            XCTAssertTrue(waitUntil(timeout: 120) { done.load(ordering: .relaxed) == producers * perProducer })
            XCTAssertEqual(outOfOrder.load(ordering: .relaxed), 0)
            let perThread = try onLoop(reactor) { Array(counts.value) }
            XCTAssertEqual(perThread, Array(repeating: perProducer, count: producers))
            // One eventfd write per batch: far fewer than one per task.
            XCTAssertLessThan(reactor.eventfdWrites.load(ordering: .relaxed), producers * perProducer / 4)
        }
    }

    func testSubmissionsCannotStarveTimers() throws {
        var configuration = Reactor.Configuration()
        configuration.maxSubmissionsPerTurn = 16
        try withReactor(configuration) { reactor in
            let timerFired = Atomic<Bool>(false)
            // 64 tasks that each resubmit themselves forever (more than 16 per turn): the loop must still get to
            // its timer.
            let flood = Flood(reactor: reactor)
            try onLoop(reactor) {
                reactor.schedule(after: .milliseconds(20)) { timerFired.store(true, ordering: .relaxed) }
                for _ in 0..<64 { flood.run() }
            }
            XCTAssertTrue(waitUntil(timeout: 10) { timerFired.load(ordering: .relaxed) })
            flood.stop.store(true, ordering: .relaxed)
        }
    }

    func testShutdownRunsAlreadyAcceptedTasks() throws {
        let reactor = try Reactor()
        try reactor.start()
        let ran = Atomic<Int>(0)
        for _ in 0..<1_000 { reactor.execute { ran.add(1, ordering: .relaxed) } }
        reactor.shutdown()
        XCTAssertEqual(ran.load(ordering: .relaxed), 1_000)
    }
}

private final class Flood: Sendable {
    let reactor: Reactor
    let stop = Atomic<Bool>(false)
    init(reactor: Reactor) { self.reactor = reactor }
    func run() {
        guard !stop.load(ordering: .relaxed) else { return }
        reactor.execute { self.run() }
    }
}
