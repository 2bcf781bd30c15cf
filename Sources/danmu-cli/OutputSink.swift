import EventLoop
import Glibc

/// Batches output lines from many threads and writes them from ONE sink thread with few `write(2)` calls.
///
/// Producers (collector workers, the decoder) format a line or a batch of lines into their own buffer and
/// `append` it: a lock, a memcpy, and a wake-up only when the pending batch crosses `flushThreshold`. The sink
/// thread swaps the pending buffer with its spare and writes outside the lock, so producers keep appending
/// while a write is in flight. Nothing here ever runs on the IO thread. When the pending data exceeds
/// `capacity` (a stuck pipe or disk), producers wait: that pushes back through the rooms' queues to the
/// reactor, which stops reading sockets — backpressure, not loss.
final class OutputSink: @unchecked Sendable {
    struct Statistics: Sendable {
        var bytesWritten: Int = 0
        var writeBatches: Int = 0
        var rotatedFiles: [String] = []
        var failure: String? = nil
    }

    private struct State {
        var pending: [UInt8] = []
        /// The writer's other buffer while it is not writing (reused capacity).
        var spare: [UInt8] = []
        var closing = false
        var stats = Statistics()
        var thread: PosixThread? = nil
    }

    /// Guards the buffers, the flags and the statistics; producers wait on it for room, the writer for data.
    private let lock = ConditionLock(State())
    private let destination: OutputDestination
    private let flushThreshold: Int
    private let capacity: Int
    private let maxDelayNanoseconds: UInt64
    private let onFailure: @Sendable (String) -> Void
    private let aroundWrite: (@Sendable (() -> Void) -> Void)?

    /// - Parameters:
    ///   - flushThreshold: pending bytes that wake the sink thread at once.
    ///   - maxDelay: longest time a line waits before it is written (small for a terminal).
    ///   - capacity: pending bytes at which producers wait.
    ///   - aroundWrite: wraps each write (the status line uses it to get out of the way on a shared terminal).
    init(
        destination: OutputDestination, flushThreshold: Int = 256 << 10, maxDelay: Duration = .milliseconds(100),
        capacity: Int = 64 << 20, onFailure: @escaping @Sendable (String) -> Void = { _ in },
        aroundWrite: (@Sendable (() -> Void) -> Void)? = nil
    ) {
        self.aroundWrite = aroundWrite
        self.destination = destination
        self.flushThreshold = flushThreshold
        self.capacity = max(capacity, flushThreshold)
        self.maxDelayNanoseconds = maxDelay.nanoseconds
        self.onFailure = onFailure
        lock.withLock { state in
            state.pending.reserveCapacity(flushThreshold * 2)
            state.spare.reserveCapacity(flushThreshold * 2)
        }
        let thread = PosixThread.startOrExit(name: "danmu-output") { [self] in run() }
        lock.withLock { $0.thread = thread }
    }

    /// Appends whole lines. Blocks only while more than `capacity` bytes are waiting to be written.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let capacity = self.capacity
        let flushThreshold = self.flushThreshold
        let wake = lock.withLock(
            waitingUntil: { $0.pending.count < capacity || $0.stats.failure != nil || $0.closing }
        ) { state, _ -> Bool in
            // Output is gone (closed pipe, full disk): drop instead of blocking the collector forever; the
            // failure was reported once and the CLI is stopping.
            guard state.stats.failure == nil else { return false }
            let before = state.pending.count
            state.pending.append(contentsOf: bytes)
            // Wake the sink when it may be asleep without a deadline (the buffer was empty) or when a full batch
            // is ready; in between it is already counting down `maxDelay`.
            return before == 0 || (before < flushThreshold && state.pending.count >= flushThreshold)
        }
        if wake { lock.broadcast() }
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Writes what is pending, stops the sink thread and returns the totals. Idempotent.
    @discardableResult
    func close() -> Statistics {
        let joinable: PosixThread? = lock.withLock { state in
            state.closing = true
            defer { state.thread = nil }
            return state.thread
        }
        lock.broadcast()
        joinable?.join()
        return statistics()
    }

    func statistics() -> Statistics {
        lock.withLock { $0.stats }
    }

    private func run() {
        let flushThreshold = self.flushThreshold
        while true {
            let hasData = lock.withLock(waitingUntil: { !$0.pending.isEmpty || $0.closing }) { state, _ in
                !state.pending.isEmpty
            }
            guard hasData else { return }  // closing, and everything was written
            // Let a small batch grow a little: one write per `maxDelay` instead of one per line.
            let deadline = SystemClock.monotonicNanoseconds() + maxDelayNanoseconds
            var (batch, producersWaited) = lock.withLock(
                waitingUntil: { $0.pending.count >= flushThreshold || $0.closing }, deadline: deadline
            ) { state, _ -> ([UInt8], Bool) in
                let full = state.pending.count >= capacity
                swap(&state.pending, &state.spare)
                // Moved out, not copied: `state.spare` lets go of the buffer, so `batch` owns it alone.
                let batch = state.spare
                state.spare = []
                return (batch, full)
            }
            if producersWaited { lock.broadcast() }

            var failure: String? = nil
            if let aroundWrite {
                // Interactive: the status line on the same terminal is erased first and redrawn after.
                aroundWrite { failure = batch.withUnsafeBytes { destination.write($0) } }
            } else {
                failure = batch.withUnsafeBytes { destination.write($0) }
            }
            let written = batch.count
            batch.removeAll(keepingCapacity: true)

            let firstFailure: String? = lock.withLock { state in
                state.spare = batch
                state.stats.writeBatches += 1
                state.stats.rotatedFiles = destination.rotatedFiles
                guard let failure else {
                    state.stats.bytesWritten += written
                    return nil
                }
                state.pending.removeAll()
                guard state.stats.failure == nil else { return nil }
                state.stats.failure = failure
                return failure
            }
            lock.broadcast()
            if let firstFailure { onFailure(firstFailure) }
        }
    }
}
