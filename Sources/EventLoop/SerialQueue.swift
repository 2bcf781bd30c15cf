import Synchronization

/// Jobs of one key (one room): run in order on the pool's workers, never two at once; different queues run in
/// parallel. Bounded by cost with high/low watermarks for lossless backpressure:
///
/// `enqueue` never refuses a job; it returns true when the caller (the reactor) must pause the key's socket,
/// because this queue holds more than `highWatermark` or the pool holds more than its global cap. Once the queue
/// has drained to `lowWatermark` (and the pool to ¾ of its cap), `onDrained` runs once, on a worker thread (or, when
/// the queue drained while `enqueue` was still asking for the pause, on the enqueuing thread right after it) — the
/// caller then resumes reading (typically `reactor.execute { reactor.resumeReading(id) }`). Enqueueing once the
/// pool's `shutdown()` has stopped its last worker is a programming error (a precondition failure naming the
/// queue's key), never a silent drop: no worker is left to run it. Until then, `shutdown()` runs it.
public final class SerialQueue: Sendable {
    struct State {
        var jobs: [(cost: Int, job: @Sendable () -> Void)] = []
        var head = 0
        var pendingCost = 0
        /// In the pool's run queue or being run by a worker.
        var isScheduled = false
        /// Told its caller to pause and has not called `onDrained` since.
        var isPaused = false
    }

    /// Guards the jobs, the pending cost and the two flags.
    private let state = Lock(State())
    private let pool: WorkerPool
    private let highWatermark: Int
    private let lowWatermark: Int
    private let onDrained: @Sendable () -> Void
    /// What the queue serves (a room id), named by `WorkerPool.busyWorkers(longerThan:)`.
    public let key: Int64
    /// Seam for the lost-wake-up regression test: runs in `enqueue` between pausing and registering. Nil in
    /// production.
    nonisolated(unsafe) var afterPauseHook: (@Sendable () -> Void)?

    /// A queue on `pool`. `lowWatermark` must not exceed `highWatermark`.
    public init(
        pool: WorkerPool, key: Int64 = 0, highWatermark: Int, lowWatermark: Int,
        onDrained: @escaping @Sendable () -> Void = {}
    ) {
        precondition(lowWatermark >= 0 && lowWatermark <= highWatermark)
        self.pool = pool
        self.key = key
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
        self.onDrained = onDrained
    }

    /// The summed cost of the jobs not finished yet.
    public var pendingCost: Int { state.withLock { $0.pendingCost } }

    /// Appends `job`; never refuses it (lossless). Any thread.
    /// - Returns: true when the caller must pause its source (above the high mark or the pool's global cap).
    @discardableResult
    public func enqueue(cost: Int, _ job: @escaping @Sendable () -> Void) -> Bool {
        precondition(cost >= 0)
        let global = pool.globalBytes.add(cost, ordering: .acquiringAndReleasing).newValue
        let (schedule, pause) = state.withLock { state in
            state.jobs.append((cost, job))
            state.pendingCost += cost
            let pause = state.pendingCost > highWatermark || global > pool.globalByteCap
            if pause { state.isPaused = true }
            let schedule = !state.isScheduled
            state.isScheduled = true
            return (schedule, pause)
        }
        if schedule { pool.schedule(self) }
        if pause {
            afterPauseHook?()
            // Register only if still paused: a release that ran since (the worker drained the queue) must not
            // leave a stale entry that keeps this queue alive after its room is gone.
            pool.pausedQueues.withLock { paused in
                if state.withLock({ $0.isPaused }) { paused[ObjectIdentifier(self)] = self }
            }
            // Then look once more: the release condition may have become true before we were registered, when
            // nobody could see us (the worker drained us while the pool was above ¾ of its cap, and the pool
            // crossed back below ¾ from a snapshot without us). Nobody would ever release this queue: the
            // room stayed paused and empty forever (testPausedQueueDrainedBeforeRegistrationIsReleased).
            releaseIfDrained()
        }
        return pause
    }

    /// Runs up to `limit` jobs in order (worker thread). Returns true when jobs remain: reschedule the queue.
    func runSome(limit: Int) -> Bool {
        for _ in 0..<limit {
            let next: (cost: Int, job: @Sendable () -> Void)? = state.withLock { state in
                guard state.head < state.jobs.count else { return nil }
                let next = state.jobs[state.head]
                state.head += 1
                return next
            }
            guard let (cost, job) = next else { break }
            job()
            finished(cost: cost)
        }
        return state.withLock { state in
            if state.head == state.jobs.count {
                state.jobs = []  // an idle queue keeps no storage
                state.head = 0
                state.isScheduled = false
                return false
            }
            if state.head >= 256 && state.head * 2 >= state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return true
        }
    }

    private func finished(cost: Int) {
        let release = state.withLock { state in
            state.pendingCost -= cost
            return state.isPaused && state.pendingCost <= lowWatermark
        }
        pool.bytesFinished(cost)
        if release { releaseIfDrained() }
    }

    /// Calls `onDrained` if this queue is paused, at or below its low mark, and the pool is below ¾ of its cap.
    func releaseIfDrained() {
        guard pool.isGlobalLow else { return }
        // The flag and the registration change together under the pool's lock (then this queue's).
        let release = pool.pausedQueues.withLock { paused in
            let release = state.withLock { state in
                guard state.isPaused && state.pendingCost <= lowWatermark else { return false }
                state.isPaused = false
                return true
            }
            if release { paused[ObjectIdentifier(self)] = nil }
            return release
        }
        if release { onDrained() }
    }

    /// Whether this queue is registered with its pool as paused (tests: no stale entries).
    var isRegisteredAsPaused: Bool { pool.pausedQueues.withLock { $0[ObjectIdentifier(self)] != nil } }
}
