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

    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var pending: [UInt8] = []
    private var spare: [UInt8] = []
    private var closing = false
    private var writing = false
    private var stats = Statistics()
    private var waitingProducers = 0

    private let destination: OutputDestination
    private let flushThreshold: Int
    private let capacity: Int
    private let maxDelayNanoseconds: UInt64
    private let onFailure: @Sendable (String) -> Void
    private let aroundWrite: (@Sendable (() -> Void) -> Void)?
    private var thread: PosixThread? = nil

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
        pending.reserveCapacity(flushThreshold * 2)
        spare.reserveCapacity(flushThreshold * 2)
        thread = PosixThread.startOrExit(name: "danmu-output") { [self] in run() }
    }

    /// Appends whole lines. Blocks only while more than `capacity` bytes are waiting to be written.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        lock.lock()
        while pending.count >= capacity && stats.failure == nil && !closing {
            waitingProducers += 1
            lock.wait()
            waitingProducers -= 1
        }
        if stats.failure != nil {
            // Output is gone (closed pipe, full disk): drop instead of blocking the collector forever; the
            // failure was reported once and the CLI is stopping.
            lock.unlock()
            return
        }
        let before = pending.count
        pending.append(contentsOf: bytes)
        // Wake the sink when it may be asleep without a deadline (the buffer was empty) or when a full batch
        // is ready; in between it is already counting down `maxDelay`.
        let wake = before == 0 || (before < flushThreshold && pending.count >= flushThreshold)
        lock.unlock()
        if wake { lock.broadcast() }
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Writes what is pending, stops the sink thread and returns the totals. Idempotent.
    @discardableResult
    func close() -> Statistics {
        lock.lock()
        closing = true
        lock.broadcast()
        let joinable = thread
        thread = nil
        lock.unlock()
        joinable?.join()
        return statistics()
    }

    func statistics() -> Statistics {
        lock.withLock { stats }
    }

    private func run() {
        lock.lock()
        while true {
            if pending.isEmpty {
                if closing { break }
                lock.wait()
                continue
            }
            if pending.count < flushThreshold && !closing {
                // Let a small batch grow a little: one write per `maxDelay` instead of one per line.
                let deadline = SystemClock.monotonicNanoseconds() + maxDelayNanoseconds
                while pending.count < flushThreshold && !closing {
                    if !lock.wait(untilMonotonic: deadline) { break }
                }
            }
            swap(&pending, &spare)
            writing = true
            if waitingProducers > 0 { lock.broadcast() }
            lock.unlock()

            var failure: String? = nil
            if let aroundWrite {
                // Interactive: the status line on the same terminal is erased first and redrawn after.
                aroundWrite { failure = spare.withUnsafeBytes { destination.write($0) } }
            } else {
                failure = spare.withUnsafeBytes { destination.write($0) }
            }
            let written = spare.count
            spare.removeAll(keepingCapacity: true)

            lock.lock()
            writing = false
            stats.writeBatches += 1
            stats.rotatedFiles = destination.rotatedFiles
            if let failure {
                if stats.failure == nil {
                    stats.failure = failure
                    lock.unlock()
                    onFailure(failure)
                    lock.lock()
                }
                pending.removeAll()
            } else {
                stats.bytesWritten += written
            }
            lock.broadcast()
        }
        lock.unlock()
    }
}
