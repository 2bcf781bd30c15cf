import DanmuClient
import Glibc
import Synchronization
import TestSupport

/// Latency attribution for `latency` (issue 11): the collector's `onBatchTimings` stamps each batch at the loop's
/// wake-up, the queueing, the worker's start, the end of decoding and the handler call; with the simulator's send
/// time in each danmaku's `id_str` that splits send → handler into stages. Per stamped danmaku:
///
/// - `wire`: send → `epoll_wait` returned (the simulator's write, loopback, the IO thread's wake-up);
/// - `loop`: wake-up → frames queued (the turn's reads of other rooms ahead of this one, the read, the cut);
/// - `queue`: queued → a worker began (`wake` when the worker had nothing to do when it was queued: the
///   condition-variable wake-up; `behind` when it was busy with earlier batches: queueing behind them);
///   `busy_ahead` and `gap` split the same wait another way (one worker: exact; more: approximate): how long the
///   worker was still busy with earlier batches after this one was queued, and from then to the start;
/// - `decode`: decompression, JSON and typed events; `deliver`: building the `RoomEvent`s up to the handler call.
final class LatencyBreakdown: Sendable {
    private struct Samples {
        var wire: [UInt64] = []
        var loop: [UInt64] = []
        var queueWake: [UInt64] = []
        var queueBehind: [UInt64] = []
        /// Of `queue`: how long the worker was still busy with earlier batches after this one was queued …
        var busyAhead: [UInt64] = []
        /// … and the rest: from the worker being free (or the queueing, if later) to this batch's start.
        var gap: [UInt64] = []
        var decode: [UInt64] = []
        var deliver: [UInt64] = []
        /// Worker start → handler returned: what one batch holds the worker for.
        var job: [UInt64] = []
        var total: [UInt64] = []
        /// When the last batch's handler returned (any worker): a batch queued before it found the pool busy.
        var lastReturnedAt: UInt64 = 0
        var recording = false
    }
    private let samples = Mutex(Samples())

    /// The `onBatchTimings` closure to put in the collector's configuration.
    var observer: @Sendable (BatchTimings, [RoomEvent]) -> Void {
        { [self] timings, events in record(timings, events) }
    }

    private func record(_ timings: BatchTimings, _ events: [RoomEvent]) {
        var sends: [UInt64] = []
        for event in events {
            if case .danmaku(let danmaku) = event.event, let idStr = danmaku.idStr,
                let sent = simulatedSendTime(idStr)
            {
                sends.append(sent)
            }
        }
        samples.withLock { state in
            defer { state.lastReturnedAt = max(state.lastReturnedAt, timings.handlerReturnedAt) }
            guard state.recording else { return }
            let busy = state.lastReturnedAt > timings.queuedAt
            for sent in sends {
                state.wire.append(timings.loopWokeAt &- min(sent, timings.loopWokeAt))
                state.total.append(timings.handlerCalledAt &- min(sent, timings.handlerCalledAt))
            }
            let count = sends.count
            func add(_ values: inout [UInt64], _ value: UInt64) {
                for _ in 0..<count { values.append(value) }
            }
            add(&state.loop, timings.queuedAt &- min(timings.loopWokeAt, timings.queuedAt))
            let queued = timings.startedAt &- min(timings.queuedAt, timings.startedAt)
            if busy { add(&state.queueBehind, queued) } else { add(&state.queueWake, queued) }
            let free = max(state.lastReturnedAt, timings.queuedAt)
            add(&state.busyAhead, free - timings.queuedAt)
            add(&state.gap, timings.startedAt &- min(free, timings.startedAt))
            add(&state.decode, timings.decodedAt &- min(timings.startedAt, timings.decodedAt))
            add(&state.deliver, timings.handlerCalledAt &- min(timings.decodedAt, timings.handlerCalledAt))
            add(&state.job, timings.handlerReturnedAt &- min(timings.startedAt, timings.handlerReturnedAt))
        }
    }

    /// Drops what was recorded so far and records from now on (after the warm-up).
    func startRecording() {
        samples.withLock { state in
            let last = state.lastReturnedAt
            state = Samples()
            state.lastReturnedAt = last
            state.recording = true
        }
    }

    /// p50/p99 per stage as `latency.stage.<name>.p50|p99` (ms), plus the share of danmaku that found the worker
    /// idle (each of those paid a wake-up).
    func figures() -> [BenchmarkFigure] {
        let state = samples.withLock { state in
            state.recording = false
            return state
        }
        var figures: [BenchmarkFigure] = []
        let stages: [(String, [UInt64], String)] = [
            ("wire", state.wire, "send → epoll_wait returned"),
            ("loop", state.loop, "wake-up → frames queued (IO turn)"),
            ("queue_wake", state.queueWake, "queued → worker start, worker was idle"),
            ("queue_behind", state.queueBehind, "queued → worker start, worker was busy"),
            ("queue_busy_ahead", state.busyAhead, "of queue: worker still busy with earlier batches"),
            ("queue_gap", state.gap, "of queue: worker free (or batch queued) → start: wake-up, CPU, pool"),
            ("decode", state.decode, "inflate + JSON + typed events"),
            ("deliver", state.deliver, "decoded → handler call"),
            ("job", state.job, "worker start → handler returned"),
            ("total", state.total, "send → handler call (stamped batches)"),
        ]
        for (name, values, what) in stages {
            guard !values.isEmpty else { continue }
            let sorted = values.map { Double($0) / 1e6 }.sorted()
            figures.append(
                BenchmarkFigure(
                    name: "latency.stage.\(name).p50", value: percentile(sorted, 0.5), unit: "ms",
                    note: "\(what); \(values.count) danmaku"))
            figures.append(
                BenchmarkFigure(name: "latency.stage.\(name).p99", value: percentile(sorted, 0.99), unit: "ms"))
        }
        let stamped = state.queueWake.count + state.queueBehind.count
        if stamped > 0 {
            figures.append(
                BenchmarkFigure(
                    name: "latency.stage.worker_idle_share", value: Double(state.queueWake.count) / Double(stamped),
                    unit: "", note: "danmaku whose batch found the worker pool idle (paid a wake-up)"))
        }
        return figures
    }
}

/// Per-thread scheduling readings of this process, summed by thread name ("danmu-worker-N" → "danmu-worker"):
/// voluntary context switches from `/proc/self/task/*/status` (a sleeping thread's wake-up is one, so the IO
/// thread's count is its loop wake-ups) and, from `schedstat`, nanoseconds run on a CPU and nanoseconds spent
/// runnable but waiting for one (the machine's other load, seen from inside).
struct ThreadStats {
    var voluntarySwitches = 0
    var runNs = 0
    var waitNs = 0

    static func read() -> [String: ThreadStats] {
        var totals: [String: ThreadStats] = [:]
        guard let directory = opendir("/proc/self/task") else { return totals }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first?.isNumber == true else { continue }
            let base = "/proc/self/task/\(name)/"
            guard let comm = TestFiles.read(base + "comm"), let status = TestFiles.read(base + "status"),
                let schedstat = TestFiles.read(base + "schedstat")
            else { continue }
            var thread = String(decoding: comm, as: UTF8.self).trimmingTrailingNewline
            if thread.hasPrefix("danmu-worker") { thread = "danmu-worker" }
            var stats = totals[thread] ?? ThreadStats()
            for line in String(decoding: status, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("voluntary_ctxt_switches:") {
                stats.voluntarySwitches += Int(line.split(separator: ":")[1].trimmingLeadingSpaces) ?? 0
            }
            let fields = String(decoding: schedstat, as: UTF8.self).split(separator: " ")
            if fields.count >= 2 {
                stats.runNs += Int(fields[0]) ?? 0
                stats.waitNs += Int(fields[1]) ?? 0
            }
            totals[thread] = stats
        }
        return totals
    }

    /// Figures for `threads` between two readings over `seconds`, per `messages`: wake-ups/s, CPU µs per message
    /// and run-queue wait µs per message, named `<prefix>.<label>.…`.
    static func figures(
        prefix: String, threads: [(name: String, label: String)], before: [String: ThreadStats],
        after: [String: ThreadStats], seconds: Double, messages: Int
    ) -> [BenchmarkFigure] {
        var figures: [BenchmarkFigure] = []
        let count = Double(max(1, messages))
        for (name, label) in threads {
            let a = after[name] ?? ThreadStats()
            let b = before[name] ?? ThreadStats()
            figures += [
                BenchmarkFigure(
                    name: "\(prefix).\(label).wakeups_per_s",
                    value: Double(a.voluntarySwitches - b.voluntarySwitches) / seconds,
                    unit: "/s", note: "voluntary context switches of \(name)*"),
                BenchmarkFigure(
                    name: "\(prefix).\(label).cpu_per_msg", value: Double(a.runNs - b.runNs) / count / 1e3, unit: "µs",
                    note: "schedstat run time"),
                BenchmarkFigure(
                    name: "\(prefix).\(label).runqueue_wait_per_msg", value: Double(a.waitNs - b.waitNs) / count / 1e3,
                    unit: "µs", note: "runnable, waiting for a CPU (other load)"),
            ]
        }
        return figures
    }
}

extension String {
    fileprivate var trimmingTrailingNewline: String {
        var copy = self
        while copy.last == "\n" { copy.removeLast() }
        return copy
    }
}

extension Substring {
    fileprivate var trimmingLeadingSpaces: Substring { drop { $0 == " " || $0 == "\t" } }
}
