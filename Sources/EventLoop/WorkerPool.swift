import Glibc
import Synchronization

/// N worker threads running `SerialQueue`s: a queue with pending jobs sits once in the pool's run queue; a worker
/// takes it, runs a few of its jobs in order, and puts it back at the tail if it has more (so one busy key cannot
/// starve the others). Different queues run in parallel; one queue never runs on two workers at once.
public final class WorkerPool: Sendable {
    struct State {
        /// Queues with pending jobs, not being run. Each queue appears at most once.
        var runQueue: [SerialQueue] = []
        var runHead = 0
        var isShuttingDown = false
        var threads: [PosixThread] = []
    }

    /// Guards the run queue, the shutdown flag and the thread list.
    private let state = Lock(State())
    /// Counts entries of `runQueue` (plus one wake-up per worker at shutdown).
    private let available = Semaphore()
    /// Bytes (costs) enqueued and not yet run, over all queues.
    let globalBytes = Atomic<Int>(0)
    /// Above this, every `enqueue` asks its caller to pause.
    public let globalByteCap: Int
    /// Queues that asked their caller to pause and wait for a release. Guarded by its Lock.
    let pausedQueues = Lock<[ObjectIdentifier: SerialQueue]>([:])
    /// Number of worker threads.
    public let threadCount: Int
    /// Cores − 1, at least 1.
    public static var defaultThreadCount: Int { max(1, PosixThread.cpuCount - 1) }
    /// Jobs a worker runs from one queue before it lets the next queue have a turn.
    static let jobsPerTurn = 32

    /// Starts `threadCount` workers (default: cores − 1, at least 1).
    /// - Parameter globalByteCap: the total cost all queues may hold before every enqueue asks for a pause.
    public init(threadCount: Int = WorkerPool.defaultThreadCount, globalByteCap: Int = 256 << 20) {
        precondition(threadCount > 0 && globalByteCap > 0)
        self.threadCount = threadCount
        self.globalByteCap = globalByteCap
        var threads: [PosixThread] = []
        for index in 0..<threadCount {
            do {
                threads.append(try PosixThread.spawn(name: "danmu-worker-\(index)") { [self] in workerLoop() })
            } catch {
                preconditionFailure("cannot start worker thread: \(error)")
            }
        }
        state.withLock { $0.threads = threads }
    }

    /// Finishes every queued job, then stops and joins the workers. Idempotent; do not call from a worker.
    public func shutdown() {
        let threads: [PosixThread] = state.withLock { state in
            guard !state.isShuttingDown else { return [] }
            state.isShuttingDown = true
            let threads = state.threads
            state.threads = []
            return threads
        }
        for _ in threads { available.signal() }
        for thread in threads { thread.join() }
    }

    /// Puts `queue` at the tail of the run queue (the caller guarantees it is not there already).
    func schedule(_ queue: SerialQueue) {
        state.withLock { state in
            state.runQueue.append(queue)
        }
        available.signal()
    }

    private func workerLoop() {
        while true {
            available.wait()
            let next: SerialQueue? = state.withLock { state in
                guard state.runHead < state.runQueue.count else { return nil }
                let queue = state.runQueue[state.runHead]
                state.runHead += 1
                if state.runHead == state.runQueue.count {
                    state.runQueue.removeAll(keepingCapacity: true)
                    state.runHead = 0
                } else if state.runHead >= 1024 && state.runHead * 2 >= state.runQueue.count {
                    state.runQueue.removeFirst(state.runHead)
                    state.runHead = 0
                }
                return queue
            }
            guard let queue = next else {
                // Only shutdown posts without a queue; pending queues were taken first (FIFO semaphore counts).
                if state.withLock({ $0.isShuttingDown && $0.runHead == $0.runQueue.count }) { return }
                continue
            }
            if queue.runSome(limit: WorkerPool.jobsPerTurn) { schedule(queue) }
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
