import CDanmuSystem
import EventLoop
import Glibc
import Synchronization

/// Reactor figures: memory and set-up time of idle loopback connections, timer insert/cancel/fire cost, and
/// cross-thread submission rate with 1 and 4 producers. Medians of several runs, each with a baseline measured in
/// the same process.
func runLoopBenchmark(quick: Bool) -> [BenchmarkFigure] {
    let runs = quick ? 3 : 5
    var figures: [BenchmarkFigure] = []
    figures += LoopBench.idleConnections(count: quick ? 1_000 : 5_000, runs: quick ? 1 : 3)
    figures += LoopBench.timers(count: quick ? 100_000 : 1_000_000, runs: runs)
    figures += LoopBench.submissions(producers: 1, perProducer: quick ? 100_000 : 1_000_000, runs: runs)
    figures += LoopBench.submissions(producers: 4, perProducer: quick ? 25_000 : 250_000, runs: runs)
    return figures
}

enum LoopBench {
    /// Runs `body` on the reactor's IO thread and waits for it (polling: no Dispatch, no Foundation).
    /// Runs `body` on the loop and waits (the reactor is running for the whole benchmark).
    static func onLoop<T: Sendable>(_ reactor: Reactor, _ body: @escaping @Sendable () -> T) -> T {
        guard let result = reactor.executeAndWait(body) else { preconditionFailure("the reactor stopped") }
        return result
    }

    static func waitFor(timeoutSeconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = ProcessMetrics.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while ProcessMetrics.monotonicNanoseconds() < deadline {
            if condition() { return true }
            usleep(200)
        }
        return condition()
    }

    // MARK: Idle connections

    /// One handler object for every connection, so the figure is the reactor's own cost per connection
    /// (a real client adds its handler object on top).
    final class CountingHandler: ConnectionHandler, ListenerHandler, @unchecked Sendable {
        let opened = Atomic<Int>(0)
        let closed = Atomic<Int>(0)
        func connectionDidOpen(_ connection: ConnectionID) { opened.add(1, ordering: .relaxed) }
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {}
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) { closed.add(1, ordering: .relaxed) }
        func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
            -> any ConnectionHandler
        { self }
    }

    /// `count` client connections to a listener on the same loop: 2 × count connections in the reactor.
    static func idleConnections(count: Int, runs: Int) -> [BenchmarkFigure] {
        var perConnection: [Double] = []
        var establish: [Double] = []
        var baseline: [Double] = []
        for _ in 0..<runs {
            guard let reactor = try? Reactor() else { return [] }
            guard (try? reactor.start()) != nil else { return [] }
            let handler = CountingHandler()
            let address: SocketAddress? = onLoop(reactor) {
                guard let id = try? reactor.listen(on: .loopback(port: 0), handler: handler) else { return nil }
                return reactor.localAddress(of: id)
            }
            guard let address else {
                reactor.shutdown()
                return []
            }
            let heapBefore = ProcessMetrics.heapBytes()
            let start = ProcessMetrics.monotonicNanoseconds()
            // Connect in batches of 500 so the listen backlog never overflows.
            var failures = 0
            for batch in stride(from: 0, to: count, by: 500) {
                let size = min(500, count - batch)
                failures += onLoop(reactor) {
                    var failed = 0
                    for _ in 0..<size {
                        if (try? reactor.connect(to: address, timeout: .seconds(30), handler: handler)) == nil {
                            failed += 1
                        }
                    }
                    return failed
                }
                _ = waitFor(timeoutSeconds: 30) { handler.opened.load(ordering: .relaxed) >= 2 * (batch + size) }
            }
            let elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start)
            let opened = handler.opened.load(ordering: .relaxed)
            let heapAfter = ProcessMetrics.heapBytes()
            if failures == 0 && opened == 2 * count {
                perConnection.append(Double(heapAfter - heapBefore) / Double(2 * count))
                establish.append(elapsed / Double(count))
            }
            // Baseline: the same number of plain socket() calls and closes, no reactor involved.
            let baselineStart = ProcessMetrics.monotonicNanoseconds()
            for _ in 0..<count {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                if fd >= 0 { close(fd) }
            }
            baseline.append(Double(ProcessMetrics.monotonicNanoseconds() - baselineStart) / Double(count))
            reactor.shutdown()
        }
        guard !perConnection.isEmpty else {
            return [
                BenchmarkFigure(
                    name: "loop.idle_connections", value: 0, unit: "",
                    note: "could not open \(count) connection pairs (fd limit?)")
            ]
        }
        let establishMedian = median(establish)
        return [
            BenchmarkFigure(
                name: "loop.idle_connection_heap_bytes", value: median(perConnection), unit: "B/conn",
                note: "mallinfo2 delta over \(2 * count) idle loopback connections (\(count) pairs on one loop), "
                    + "shared handler; median of \(perConnection.count)"),
            BenchmarkFigure(
                name: "loop.connect_establish_us", value: establishMedian / 1_000, unit: "us/pair",
                note: "connect + accept + both didOpen, \(count) pairs in batches of 500; "
                    + "socket()+close() alone: \(format1(median(baseline) / 1_000)) us"),
        ]
    }

    // MARK: Timers

    static func timers(count: Int, runs: Int) -> [BenchmarkFigure] {
        var insert: [Double] = []
        var cancel: [Double] = []
        var fire: [Double] = []
        var baseline: [Double] = []
        guard let reactor = try? Reactor(), (try? reactor.start()) != nil else { return [] }
        defer { reactor.shutdown() }
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<count).map { _ in UInt64.random(in: 1_000_000_000...60_000_000_000, using: &generator) }
        let fired = Atomic<Int>(0)
        for _ in 0..<runs {
            let (insertNs, cancelNs): (Double, Double) = onLoop(reactor) {
                let now = reactor.now
                let t0 = ProcessMetrics.monotonicNanoseconds()
                var ids: [TimerID] = []
                ids.reserveCapacity(count)
                for delay in delays { ids.append(reactor.schedule(at: now + delay) {}) }
                let t1 = ProcessMetrics.monotonicNanoseconds()
                for id in ids { reactor.cancel(id) }
                let t2 = ProcessMetrics.monotonicNanoseconds()
                return (Double(t1 - t0) / Double(count), Double(t2 - t1) / Double(count))
            }
            insert.append(insertNs)
            cancel.append(cancelNs)
            // Fire: `count` timers all due now (random order of deadlines in the past), fired by one timerfd wake.
            fired.store(0, ordering: .relaxed)
            // The loop notes when the last one fired, so the figure is pop + call only, not the scheduling.
            let firedAt = Atomic<UInt64>(0)
            let start: UInt64 = onLoop(reactor) {
                let now = reactor.now
                for delay in delays {
                    reactor.schedule(at: now - delay / 1_000) {
                        if fired.add(1, ordering: .relaxed).newValue == count {
                            firedAt.store(ProcessMetrics.monotonicNanoseconds(), ordering: .relaxed)
                        }
                    }
                }
                return ProcessMetrics.monotonicNanoseconds()
            }
            _ = waitFor(timeoutSeconds: 120) { firedAt.load(ordering: .relaxed) != 0 }
            fire.append(Double(firedAt.load(ordering: .relaxed) - start) / Double(count))
            // Baseline: the same deadlines appended to an array and sorted (what a sorted batch would cost).
            let b0 = ProcessMetrics.monotonicNanoseconds()
            var plain: [UInt64] = []
            plain.reserveCapacity(count)
            for delay in delays { plain.append(delay) }
            plain.sort()
            baseline.append(Double(ProcessMetrics.monotonicNanoseconds() - b0) / Double(count))
            precondition(plain.count == count)
        }
        let base = median(baseline)
        func note(_ what: String, _ value: Double) -> String {
            "\(what), \(count) pending timers, median of \(runs); ratio vs array append+sort baseline "
                + "(\(format1(base)) ns/op): \(format1(value / base))x"
        }
        return [
            BenchmarkFigure(
                name: "loop.timer_insert_ns", value: median(insert), unit: "ns/op",
                note: note("Reactor.schedule, random deadlines 1-60 s", median(insert))),
            BenchmarkFigure(
                name: "loop.timer_cancel_ns", value: median(cancel), unit: "ns/op",
                note: note("Reactor.cancel in insertion order", median(cancel))),
            BenchmarkFigure(
                name: "loop.timer_fire_ns", value: median(fire), unit: "ns/op",
                note: note("firing timers already due (pop + call), one timerfd wake", median(fire))),
        ]
    }

    // MARK: Submissions

    final class Box<T>: @unchecked Sendable {
        var value: T
        init(_ value: T) { self.value = value }
    }

    static func submissions(producers: Int, perProducer: Int, runs: Int) -> [BenchmarkFigure] {
        var rates: [Double] = []
        var baselineRates: [Double] = []
        guard let reactor = try? Reactor(), (try? reactor.start()) != nil else { return [] }
        defer { reactor.shutdown() }
        let total = producers * perProducer
        for _ in 0..<runs {
            let done = Atomic<Int>(0)
            let start = ProcessMetrics.monotonicNanoseconds()
            var threads: [pthread_t] = []
            for _ in 0..<producers {
                let body = Box<() -> Void>({
                    for _ in 0..<perProducer { reactor.execute { done.add(1, ordering: .relaxed) } }
                })
                threads.append(spawn(body))
            }
            for thread in threads { pthread_join(thread, nil) }
            _ = waitFor(timeoutSeconds: 120) { done.load(ordering: .relaxed) == total }
            rates.append(Double(total) / (Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9))
            // Baseline: the same closures created and called on the producer threads, no crossing.
            let counter = Atomic<Int>(0)
            let b0 = ProcessMetrics.monotonicNanoseconds()
            threads = []
            for _ in 0..<producers {
                let body = Box<() -> Void>({
                    for _ in 0..<perProducer {
                        let task: @Sendable () -> Void = { counter.add(1, ordering: .relaxed) }
                        callOpaque(task)
                    }
                })
                threads.append(spawn(body))
            }
            for thread in threads { pthread_join(thread, nil) }
            baselineRates.append(Double(total) / (Double(ProcessMetrics.monotonicNanoseconds() - b0) / 1e9))
        }
        let rate = median(rates)
        let base = median(baselineRates)
        return [
            BenchmarkFigure(
                name: "loop.submissions_per_s_\(producers)p", value: rate, unit: "tasks/s",
                note: "Reactor.execute from \(producers) producer thread(s), \(total) tasks until all ran on the "
                    + "loop, median of \(runs); direct call on the producers: \(format1(base / 1e6)) M/s "
                    + "(ratio \(format1(rate / base))x)")
        ]
    }

    @inline(never)
    static func callOpaque(_ task: @Sendable () -> Void) { task() }

    static func spawn(_ body: Box<() -> Void>) -> pthread_t {
        var thread = pthread_t()
        let argument = Unmanaged.passRetained(body).toOpaque()
        pthread_create(
            &thread, nil,
            { argument in
                let body = Unmanaged<Box<() -> Void>>.fromOpaque(argument!).takeRetainedValue()
                body.value()
                return nil
            }, argument)
        return thread
    }

    /// One decimal, or three significant digits below 1 (ratios such as 0.0123).
    static func format1(_ value: Double) -> String {
        if value != 0 && abs(value) < 1 {
            var scale = 1.0
            while abs(value) * scale < 100 { scale *= 10 }
            return String((value * scale).rounded() / scale)
        }
        return String((value * 10).rounded() / 10)
    }
}
