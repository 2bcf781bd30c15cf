import EventLoop
import Glibc

/// What the sink writes into: `OutputDestination` (stdout or a rotating file), or a test double. Called only on
/// the sink thread.
protocol OutputWriting: AnyObject {
    /// Writes a chunk of whole lines; returns an error text on failure.
    func write(_ chunk: UnsafeRawBufferPointer) -> String?
    /// Files rotated away so far (the summary names them).
    var rotatedFiles: [String] { get }
}

extension OutputDestination: OutputWriting {}

/// Collects output lines from many threads and writes them from ONE sink thread, by group commit.
///
/// Producers (collector workers, the decoder) format a whole batch straight into the pending buffer under the
/// lock (`append(formatting:)`: one lock per batch, no buffer of their own) or append finished bytes. When the sink
/// thread is idle the first append wakes it and the bytes are written at once: a quiet stream is written line by
/// line with no timer in the way (issue 11: the 50–100 ms `maxDelay` this replaces was the CLI's whole latency).
/// While a write is in flight, producers keep appending to the other buffer; the writer takes all of it when its
/// write returns, so batches grow exactly as much as the destination is slower than the producers. Nothing here
/// ever runs on the IO thread. When the pending data exceeds `capacity` (a stuck pipe or disk), producers wait:
/// that pushes back through the rooms' queues to the reactor, which stops reading sockets — backpressure, not loss.
final class OutputSink: @unchecked Sendable {
    struct Statistics: Sendable {
        var bytesWritten: Int = 0
        var writeBatches: Int = 0
        /// Producer appends (each one lock): one per handler batch from `EventPrinter`.
        var appends: Int = 0
        var rotatedFiles: [String] = []
        var failure: String? = nil
    }

    private struct State {
        var pending: [UInt8] = []
        /// The writer's other buffer while it is not writing (reused capacity).
        var spare: [UInt8] = []
        /// The sink thread holds a batch outside the lock (writing it); appends then need no wake-up, the writer
        /// looks at `pending` again before it sleeps.
        var writing = false
        var closing = false
        var stats = Statistics()
        var thread: PosixThread? = nil
    }

    /// Guards the buffers, the flags and the statistics; producers wait on it for room, the writer for data.
    private let lock = ConditionLock(State())
    private let destination: any OutputWriting
    private let capacity: Int
    private let onFailure: @Sendable (String) -> Void
    private let aroundWrite: (@Sendable (() -> Void) -> Void)?

    /// - Parameters:
    ///   - reserve: bytes reserved up front in each of the two buffers.
    ///   - capacity: pending bytes at which producers wait.
    ///   - aroundWrite: wraps each write (the status line uses it to get out of the way on a shared terminal).
    init(
        destination: any OutputWriting, reserve: Int = 256 << 10, capacity: Int = 64 << 20,
        onFailure: @escaping @Sendable (String) -> Void = { _ in },
        aroundWrite: (@Sendable (() -> Void) -> Void)? = nil
    ) {
        self.aroundWrite = aroundWrite
        self.destination = destination
        self.capacity = max(capacity, 1)
        self.onFailure = onFailure
        lock.withLock { state in
            state.pending.reserveCapacity(reserve)
            state.spare.reserveCapacity(reserve)
        }
        let thread = PosixThread.startOrExit(name: "danmu-output") { [self] in run() }
        lock.withLock { $0.thread = thread }
    }

    /// Runs `format` under the lock with the pending buffer: it appends whole lines straight into it (the JSON
    /// Lines printer formats a handler batch this way). Blocks only while more than `capacity` bytes are waiting
    /// to be written; after an output failure `format` is not called (the lines are dropped, the CLI is stopping).
    func append(formatting format: (inout [UInt8]) -> Void) {
        let capacity = self.capacity
        let wake = lock.withLock(
            waitingUntil: { $0.pending.count < capacity || $0.stats.failure != nil || $0.closing }
        ) { state, _ -> Bool in
            // Output is gone (closed pipe, full disk): drop instead of blocking the collector forever; the
            // failure was reported once.
            guard state.stats.failure == nil else { return false }
            let wasEmpty = state.pending.isEmpty
            state.stats.appends += 1
            format(&state.pending)
            // Wake the writer only when it may be asleep: nothing was pending and it holds no batch.
            return wasEmpty && !state.pending.isEmpty && !state.writing
        }
        if wake { lock.broadcast() }
    }

    /// Appends whole lines. Blocks only while more than `capacity` bytes are waiting to be written.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        append(formatting: { $0.append(contentsOf: bytes) })
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
        let capacity = self.capacity
        while true {
            // Take everything pending as one batch, the moment there is any.
            let taken = lock.withLock(waitingUntil: { !$0.pending.isEmpty || $0.closing }) {
                state, _ -> (batch: [UInt8], producersWaited: Bool)? in
                guard !state.pending.isEmpty else { return nil }  // closing, and everything was written
                let full = state.pending.count >= capacity
                swap(&state.pending, &state.spare)
                // Moved out, not copied: `state.spare` lets go of the buffer, so `batch` owns it alone.
                let batch = state.spare
                state.spare = []
                state.writing = true
                return (batch, full)
            }
            guard let taken else { return }
            if taken.producersWaited { lock.broadcast() }
            var batch = taken.batch

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
                state.writing = false
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
            // Producers waiting for room are released by the next take (above) or, here, by the failure.
            if let firstFailure {
                lock.broadcast()
                onFailure(firstFailure)
            }
        }
    }
}
