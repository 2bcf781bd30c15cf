import Glibc
import Synchronization

/// N worker threads running `SerialQueue`s: a queue with pending jobs sits once in the pool's run queue; a worker
/// takes it, runs a few of its jobs in order, and puts it back at the tail if it has more (so one busy key cannot
/// starve the others). Different queues run in parallel; one queue never runs on two workers at once.
///
/// A job that blocks holds its worker: with `threadCount` workers, that many blocked jobs stall every queue.
/// `busyWorkers(longerThan:)` names the queues whose current job has held a worker too long, for a watchdog.
public final class WorkerPool: Sendable {
    struct State {
        /// Queues with pending jobs, not being run. Each queue appears at most once.
        var runQueue: [SerialQueue] = []
        var runHead = 0
        var isShuttingDown = false
        /// Workers that have left their loop (only during shutdown).
        var exitedWorkers = 0
        /// Every worker has exited: nothing scheduled from now on could ever run. Set by the last worker in the
        /// same critical section in which it decides to exit, so no `schedule` can slip in between.
        var isStopped = false
        var threads: [PosixThread] = []
        /// Per worker: the queue it is running and since when (monotonic ns); nil while idle.
        var running: [(queue: SerialQueue, since: UInt64)?] = []

        var hasRunnable: Bool { runHead < runQueue.count }
    }

    /// Guards the run queue, the lifecycle flags, the thread list and `running`; idle workers wait on it.
    private let state: ConditionLock<State>
    /// The workers' pthread handles, set once in `init` (kept after shutdown, for `isWorkerThread`).
    private let workerHandles = Lock<[pthread_t]>([])
    /// Bytes (costs) enqueued and not yet run, over all queues.
    let globalBytes = Atomic<Int>(0)
    /// Above this, every `enqueue` asks its caller to pause.
    public let globalByteCap: Int
    /// Queues that asked their caller to pause and wait for a release. Guarded by its Lock; a queue's own
    /// `isPaused` is read or changed inside it (this lock first, then the queue's), so membership and the flag
    /// change together.
    let pausedQueues = Lock<[ObjectIdentifier: SerialQueue]>([:])
    /// Number of worker threads.
    public let threadCount: Int
    /// Cores − 1, at least 1.
    public static var defaultThreadCount: Int { max(1, PosixThread.cpuCount - 1) }
    /// Jobs a worker runs from one queue before it lets the next queue have a turn.
    static let jobsPerTurn = 32

    /// Points in a worker's loop where the shutdown-hang regression test widens a race window.
    enum WorkerStep: Sendable {
        /// A woken worker found nothing runnable.
        case foundNothing
        /// A worker put its queue back at the tail of the run queue.
        case putBack
        /// A worker decided to exit (outside the lock, just before its thread returns).
        case exiting
    }
    /// Seam for the regression tests; nil in production.
    let stepHook: (@Sendable (WorkerStep) -> Void)?

    /// Starts `threadCount` workers (default: cores − 1, at least 1).
    /// - Parameter globalByteCap: the total cost all queues may hold before every enqueue asks for a pause.
    public convenience init(threadCount: Int = WorkerPool.defaultThreadCount, globalByteCap: Int = 256 << 20) {
        self.init(threadCount: threadCount, globalByteCap: globalByteCap, stepHook: nil)
    }

    init(threadCount: Int, globalByteCap: Int, stepHook: (@Sendable (WorkerStep) -> Void)?) {
        precondition(threadCount > 0 && globalByteCap > 0)
        self.stepHook = stepHook
        self.threadCount = threadCount
        self.globalByteCap = globalByteCap
        state = ConditionLock(State(running: Array(repeating: nil, count: threadCount)))
        var threads: [PosixThread] = []
        for index in 0..<threadCount {
            do {
                threads.append(try PosixThread.spawn(name: "danmu-worker-\(index)") { [self] in workerLoop(index) })
            } catch {
                preconditionFailure("cannot start worker thread: \(error)")
            }
        }
        state.withLock { $0.threads = threads }
        workerHandles.withLock { $0 = threads.map(\.handle) }
    }

    /// Whether the calling thread is one of this pool's workers (a job, or a handler called from one).
    public var isWorkerThread: Bool {
        let me = pthread_self()
        return workerHandles.withLock { $0.contains { pthread_equal($0, me) != 0 } }
    }

    /// Finishes every queued job (including jobs those jobs enqueue), then stops and joins the workers.
    /// Idempotent; do not call from a worker.
    public func shutdown() {
        precondition(!isWorkerThread, "WorkerPool.shutdown() called from one of its own workers: it would join itself")
        let threads: [PosixThread] = state.withLock { state in
            guard !state.isShuttingDown else { return [] }
            state.isShuttingDown = true
            let threads = state.threads
            state.threads = []
            return threads
        }
        state.broadcast()
        for thread in threads { thread.join() }
    }

    /// Puts `queue` at the tail of the run queue (the caller guarantees it is not there already).
    ///
    /// Once every worker has exited no job can run: a schedule then is a precondition failure naming the cause,
    /// never a silent drop. `isStopped` used to be set only after `shutdown()` had joined the threads, so a queue
    /// scheduled between the last worker's exit and the end of the join was appended to a run queue nobody would
    /// ever read: the room's data vanished without a word (testScheduleAfterTheLastWorkerExitedIsAClearError).
    func schedule(_ queue: SerialQueue) {
        let stopped = state.withLock { state in
            if !state.isStopped { state.runQueue.append(queue) }
            return state.isStopped
        }
        precondition(
            !stopped,
            "SerialQueue.enqueue after WorkerPool.shutdown() stopped every worker: the job could never run "
                + "(queue key \(queue.key))")
        state.signal()
    }

    private func workerLoop(_ index: Int) {
        while true {
            // One critical section decides between "run the next queue" and "exit": deciding in two (take, then
            // check for shutdown) let a queue put back in between make a worker swallow its exit wake-up and
            // stay, so `shutdown()` hung in join (testShutdownNeverHangsWhileQueuesReschedule).
            let next: SerialQueue? = state.withLock(waitingUntil: { $0.hasRunnable || $0.isShuttingDown }) { state, _ in
                // Woken with nothing runnable means shutting down with every queue drained: exit. The last worker
                // out marks the pool stopped here, in the section that saw the run queue empty: a `schedule` is
                // either before it (and keeps this worker running) or after it (and fails loudly).
                guard state.hasRunnable else {
                    stepHook?(.foundNothing)
                    state.exitedWorkers += 1
                    if state.exitedWorkers == threadCount { state.isStopped = true }
                    return nil
                }
                let queue = state.runQueue[state.runHead]
                state.runHead += 1
                if state.runHead == state.runQueue.count {
                    state.runQueue.removeAll(keepingCapacity: true)
                    state.runHead = 0
                } else if state.runHead >= 1024 && state.runHead * 2 >= state.runQueue.count {
                    state.runQueue.removeFirst(state.runHead)
                    state.runHead = 0
                }
                state.running[index] = (queue, Posix.monotonicNanoseconds())
                return queue
            }
            guard let queue = next else {
                stepHook?(.exiting)
                return
            }
            let hasMore = queue.runSome(limit: WorkerPool.jobsPerTurn)
            state.withLock { state in
                state.running[index] = nil
                if hasMore { state.runQueue.append(queue) }
            }
            if hasMore {
                state.signal()
                stepHook?(.putBack)
            }
        }
    }

    /// The queues whose current job has held a worker for longer than `threshold`, with how long (seconds).
    /// For a watchdog: a handler that blocks holds its worker and, once all are held, every other queue.
    public func busyWorkers(longerThan threshold: Duration) -> [(key: Int64, seconds: Double)] {
        let now = Posix.monotonicNanoseconds()
        let limit = threshold.nanoseconds
        return state.withLock { state in
            state.running.compactMap { entry in
                guard let entry, now >= entry.since, now - entry.since > limit else { return nil }
                return (entry.queue.key, Double(now - entry.since) / 1e9)
            }
        }
    }

    /// Called after `released` bytes finished: when the global total fell to the low mark (¾ of the cap), every
    /// queue paused by the cap whose own backlog is low is released.
    func bytesFinished(_ released: Int) {
        let after = globalBytes.subtract(released, ordering: .acquiringAndReleasing).newValue
        let low = globalByteCap / 4 * 3
        guard after <= low, after + released > low else { return }
        releasePausedQueues()
    }

    func releasePausedQueues() {
        let candidates = pausedQueues.withLock { Array($0.values) }
        for queue in candidates { queue.releaseIfDrained() }
    }

    var isGlobalLow: Bool { globalBytes.load(ordering: .relaxed) <= globalByteCap / 4 * 3 }
}
