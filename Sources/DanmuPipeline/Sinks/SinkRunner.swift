import EventLoop

/// How a `SinkRunner` batches, retries and spills.
public struct SinkConfiguration: Sendable {
    /// The most records in one `Sink.write`.
    public var maxBatch = 4096
    /// Group commit: the writer takes whatever is queued as soon as it is idle (a batch of one under light
    /// load, up to `maxBatch` under heavy load). With `maxDelay` > 0 it waits up to that long for a fuller batch
    /// first — fewer, bigger transactions at the cost of that much latency.
    public var maxDelay: Duration = .zero
    /// Bytes of records (`SinkRecord.footprint`) held in memory; above it, records go to the spool (if
    /// `spoolPath` is set) or the submitting room's worker waits (backpressure: its socket pauses).
    public var memoryBudgetBytes = 16 << 20
    /// The backlog file; nil: no backlog (backpressure only). One runner at a time per file, in any process: the
    /// runner holds `flock` on `<spoolPath>.lock` from init to `close()`, and a second one is refused.
    public var spoolPath: String?
    /// The only place records are ever dropped: when the spool holds this many bytes, new records are
    /// dropped, counted in `SinkStatistics.dropped`, and `onWarning` is called once. nil: no limit.
    public var spoolLimitBytes: Int?
    /// Retry backoff after a failed write: doubles from `retryInitial` up to `retryMax`.
    public var retryInitial: Duration = .milliseconds(50)
    public var retryMax: Duration = .seconds(5)
    /// How long `close()` keeps retrying a failing sink before it spools what is left (or, with no spool,
    /// drops it, counted and warned).
    public var closeTimeout: Duration = .seconds(5)
    /// Called (on the writer thread or a submitter's) with a one-line warning: drops, a spool that cannot be
    /// written, torn records found at open.
    public var onWarning: (@Sendable (String) -> Void)?

    public init() {}
}

/// A sink's counters (a snapshot).
public struct SinkStatistics: Sendable, Equatable {
    public var submitted = 0
    /// Records the sink acknowledged (its `write` returned).
    public var written = 0
    public var batches = 0
    /// Failed `write` calls (each retried).
    public var failures = 0
    public var spooled = 0
    public var replayed = 0
    public var dropped = 0
    /// Torn or corrupt records found at the end of the spool when it was opened.
    public var tornRecordsSkipped = 0
    public var backlogBytes = 0
    public var queuedRecords = 0
    public var lastError: String?
}

/// Runs one `Sink` on a writer thread of its own: a bounded memory queue, group-committed batches, retry with
/// backoff, and a spool file when the sink is down or slower than its input.
///
/// Order: records leave in the order `submit` received them. Once anything is spooled, every later record is
/// spooled too until the spool is replayed to its end, so memory (older) → spool (newer) is always the order.
public final class SinkRunner: @unchecked Sendable {
    private struct State {
        var queue: [SinkRecord] = []
        var head = 0
        var queuedBytes = 0
        /// True while the spool holds records: new records go behind them.
        var spooling = false
        var closing = false
        var finished = false
        var warnedDrop = false
        var lastSync: UInt64 = 0
        var statistics = SinkStatistics()
        var queuedCount: Int { queue.count - head }
    }

    public let name: String
    public let configuration: SinkConfiguration
    // `sink` is touched only by the writer thread (and by init before it starts).
    private let sink: any Sink
    // Guarded by `state`'s lock, with the queue: every spool call is made under it.
    private let spool: SpoolFile?
    // Held from init until the writer finishes (`close()`): one runner per spool file, across processes.
    private let spoolLock: SpoolLock?
    private let state = ConditionLock(State())
    private var thread: PosixThread?

    /// Takes the spool's lock (another runner holding it, in any process, is an error naming the holder), opens
    /// the spool (replaying what a previous run left, first) and starts the writer thread.
    public init(sink: any Sink, configuration: SinkConfiguration = SinkConfiguration()) throws(PipelineError) {
        precondition(configuration.maxBatch > 0, "maxBatch ≥ 1")
        self.sink = sink
        self.name = sink.name
        self.configuration = configuration
        // The lock before the open: opening scans the file and truncates a torn tail, which would cut into
        // the holder's appends.
        let lock = try configuration.spoolPath.map { path throws(PipelineError) in try SpoolLock(spoolPath: path) }
        spoolLock = lock
        do {
            spool = try configuration.spoolPath.map { path throws(PipelineError) in try SpoolFile(path: path) }
        } catch {
            lock?.release()
            throw error
        }
        if let spool {
            state.withLock { state in
                state.spooling = !spool.isEmpty
                state.statistics.tornRecordsSkipped = spool.tornRecordsSkipped
                state.statistics.backlogBytes = spool.pendingBytes
            }
            if spool.tornRecordsSkipped > 0 {
                configuration.onWarning?(
                    "\(name): \(spool.tornRecordsSkipped) torn record(s) at the end of \(spool.path) skipped")
            }
        }
        do {
            thread = try PosixThread.spawn(name: "danmu-sink") { [self] in run() }
        } catch {
            spool?.close()
            spoolLock?.release()
            throw .invalidConfiguration("cannot start the writer thread of \(name): \(error)")
        }
    }

    public var statistics: SinkStatistics {
        state.withLock { state in
            var s = state.statistics
            s.queuedRecords = state.queuedCount
            s.backlogBytes = spool?.pendingBytes ?? 0
            return s
        }
    }

    /// Queues `records` (in order, behind everything submitted before). Blocks only without a spool, while the
    /// memory queue is over its budget.
    public func submit(_ records: [SinkRecord]) {
        guard !records.isEmpty else { return }
        let bytes = records.reduce(0) { $0 + $1.footprint }
        let budget = configuration.memoryBudgetBytes
        var warning: String?
        let hasRoom: (State) -> Bool = { s in
            self.spool != nil || s.closing || s.queuedBytes == 0 || s.queuedBytes + bytes <= budget
        }
        state.withLock(waitingUntil: hasRoom) { s, _ in
            s.statistics.submitted += records.count
            if s.closing {
                s.statistics.dropped += records.count
                warning = "\(name): \(records.count) record(s) submitted after close dropped"
                return
            }
            if let spool, s.spooling || s.queuedBytes + bytes > budget {
                if let limit = configuration.spoolLimitBytes, spool.pendingBytes >= limit {
                    s.statistics.dropped += records.count
                    if !s.warnedDrop {
                        s.warnedDrop = true
                        warning =
                            "\(name): the backlog reached its limit of \(limit) bytes; dropping new records (counted)"
                    }
                    return
                }
                do {
                    try spool.append(records)
                    s.spooling = true
                    s.statistics.spooled += records.count
                } catch {
                    // The spool cannot be written (a full disk): keep the records in memory past the budget rather
                    // than lose them, and say so.
                    s.statistics.lastError = "\(error)"
                    warning = "\(name): cannot spool (\(error)); keeping records in memory"
                    enqueue(records, bytes, &s)
                }
            } else {
                enqueue(records, bytes, &s)
            }
        }
        state.broadcast()
        if let warning { configuration.onWarning?(warning) }
    }

    private func enqueue(_ records: [SinkRecord], _ bytes: Int, _ s: inout State) {
        s.queue.append(contentsOf: records)
        s.queuedBytes += bytes
    }

    /// Writes what is queued (retrying a failing sink up to `closeTimeout`), spools what is left, stops the
    /// writer thread, closes the sink, then closes the spool and releases its lock (a new runner may open it as
    /// soon as this returns). Idempotent.
    public func close() {
        let first = state.withLock { s -> Bool in
            defer { s.closing = true }
            return !s.closing
        }
        state.broadcast()
        if first { thread?.join() }
        state.withLock(waitingUntil: { $0.finished }) { _, _ in }
    }

    // MARK: - Writer thread

    private enum Source {
        case memory(bytes: Int)
        case spool(end: Int)
    }

    private func run() {
        var closeDeadline: UInt64?
        var delay = configuration.retryInitial
        batches: while true {
            guard let (batch, source) = nextBatch() else { break }
            while true {
                do {
                    try sink.write(batch)
                    break
                } catch {
                    let (closing, spilled) = state.withLock { s -> (Bool, Bool) in
                        s.statistics.failures += 1
                        s.statistics.lastError = "\(error)"
                        return (s.closing, spillOnFailure(batch, source, &s))
                    }
                    if closing {
                        let now = SystemClock.monotonicNanoseconds()
                        if closeDeadline == nil { closeDeadline = now + configuration.closeTimeout.nanoseconds }
                        if now >= closeDeadline! {
                            giveUp(inFlight: spilled ? [] : batch, source: spilled ? .spool(end: 0) : source)
                            sink.close()
                            finish()
                            return
                        }
                    }
                    sleep(delay)
                    delay = min(delay * 2, configuration.retryMax)
                    // The same records now come back, first, from the spool.
                    if spilled { continue batches }
                }
            }
            delay = configuration.retryInitial
            acknowledge(batch.count, source: source)
        }
        sink.close()
        finish()
    }

    /// The first failure of a sink with an empty spool moves the failed batch and the whole memory queue to the
    /// spool (they are older than anything after them, so order holds): while the sink is down, records live on
    /// disk, and a SIGKILL of the process loses none of them. True when it did.
    private func spillOnFailure(_ batch: [SinkRecord], _ source: Source, _ s: inout State) -> Bool {
        guard let spool, case .memory = source, !s.spooling else { return false }
        let front = batch + s.queue[s.head...]
        do {
            try spool.append(front)
        } catch {
            return false
        }
        s.statistics.spooled += front.count
        s.spooling = true
        s.queue.removeAll()
        s.head = 0
        s.queuedBytes = 0
        return true
    }

    private func finish() {
        state.withLock { s in
            try? spool?.sync()
            // Explicitly, not at deinit: whoever keeps this runner (for its statistics) must not keep the spool.
            spool?.close()
            spoolLock?.release()
            s.finished = true
        }
        state.broadcast()
    }

    /// Waits for work; nil when closing and nothing is left.
    private func nextBatch() -> ([SinkRecord], Source)? {
        let maxBatch = configuration.maxBatch
        let hasWork: (State) -> Bool = { s in s.queuedCount > 0 || !(self.spool?.isEmpty ?? true) }
        while true {
            let ready = state.withLock(waitingUntil: { s in hasWork(s) || s.closing }) { s, _ in hasWork(s) }
            if !ready { return nil }
            if let batch = takeBatch(maxBatch: maxBatch) { return batch }
        }
    }

    private func takeBatch(maxBatch: Int) -> ([SinkRecord], Source)? {
        if configuration.maxDelay > .zero {
            let deadline = SystemClock.monotonicNanoseconds() + configuration.maxDelay.nanoseconds
            let full: (State) -> Bool = { s in s.queuedCount >= maxBatch || s.closing }
            state.withLock(waitingUntil: full, deadline: deadline) { _, _ in }
        }
        var result: ([SinkRecord], Source)?
        var warning: String?
        state.withLock { s in
            if s.queuedCount > 0 {
                let end = min(s.queue.count, s.head + maxBatch)
                let batch = Array(s.queue[s.head..<end])
                s.head = end
                let bytes = batch.reduce(0) { $0 + $1.footprint }
                s.queuedBytes -= bytes
                if s.head == s.queue.count || s.head > 65_536 {
                    s.queue.removeFirst(s.head)
                    s.head = 0
                }
                result = (batch, .memory(bytes: bytes))
            } else if let spool, !spool.isEmpty {
                do {
                    let (batch, end) = try spool.read(limit: maxBatch)
                    result = (batch, .spool(end: end))
                } catch {
                    s.statistics.lastError = "\(error)"
                    warning = "\(name): cannot read the backlog (\(error))"
                }
            }
        }
        state.broadcast()
        if let warning {
            configuration.onWarning?(warning)
            sleep(configuration.retryMax)
        }
        return result
    }

    private func acknowledge(_ count: Int, source: Source) {
        var warning: String?
        state.withLock { s in
            s.statistics.written += count
            s.statistics.batches += 1
            if case .spool(let end) = source, let spool {
                s.statistics.replayed += count
                do {
                    try spool.commit(end, records: count)
                } catch {
                    warning = "\(name): cannot record the backlog's replay position (\(error))"
                }
                if spool.isEmpty { s.spooling = false }
            }
            // fsync policy (SpoolFile): at most once a second while spooling.
            let now = SystemClock.monotonicNanoseconds()
            if let spool, s.spooling, now >= s.lastSync + 1_000_000_000 {
                try? spool.sync()
                s.lastSync = now
            }
        }
        state.broadcast()
        if let warning { configuration.onWarning?(warning) }
    }

    /// Close with the sink still failing: the in-flight batch and the memory queue are older than the spool,
    /// so they go in front of it; without a spool they are dropped, counted and warned.
    private func giveUp(inFlight: [SinkRecord], source: Source) {
        var warning: String?
        state.withLock { s in
            var front: [SinkRecord] = []
            if case .memory = source { front = inFlight }
            front += s.queue[s.head...]
            s.queue.removeAll()
            s.head = 0
            s.queuedBytes = 0
            if let spool {
                do {
                    try spool.closeWithPrepended(front)
                    s.statistics.spooled += front.count
                    let left = spool.pendingRecords + front.count
                    warning =
                        "\(name): still failing at close; \(left) record(s) left in \(spool.path) for the next run"
                } catch {
                    s.statistics.dropped += front.count
                    warning = "\(name): cannot spool at close (\(error)); \(front.count) record(s) dropped"
                }
            } else if !front.isEmpty {
                s.statistics.dropped += front.count
                warning = "\(name): still failing at close and no backlog file; \(front.count) record(s) dropped"
            }
        }
        if let warning { configuration.onWarning?(warning) }
    }

    private func sleep(_ duration: Duration) {
        let deadline = SystemClock.monotonicNanoseconds() + duration.nanoseconds
        let elapsed: (State) -> Bool = { _ in SystemClock.monotonicNanoseconds() >= deadline }
        state.withLock(waitingUntil: elapsed, deadline: deadline) { _, _ in }
    }
}
