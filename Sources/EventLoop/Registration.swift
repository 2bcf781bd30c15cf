import CDanmuSystem
import Glibc

/// One row of the reactor's flat registration table (redis `ae` style: one array, indexed by slot).
///
/// The whole per-connection footprint of the reactor is this row (about 100 bytes; a test keeps it at most 160):
/// no read buffer (reads go to the one shared receive buffer), no closures, and a write queue that allocates
/// nothing while it is empty.
struct Registration {
    enum Kind: UInt8 {
        case free
        case connecting
        case connected
        case listener
    }

    var fd: Int32 = -1
    /// Bumped when the slot is freed: ids and epoll tokens carrying an older generation are stale.
    var generation: UInt32 = 0
    var kind: Kind = .free
    /// What epoll currently holds for this fd; nil: not registered (deregistered or never added).
    var registered: Interest?
    var isPaused = false
    var closeAfterFlush = false
    /// The write queue held bytes the kernel refused: report `connectionDidDrainWrites` once it empties.
    var writesBlocked = false
    /// Free-list link while `kind == .free`.
    var nextFree: Int32 = -1
    var connectTimer: TimerID?
    var connectionHandler: (any ConnectionHandler)?
    var listenerHandler: (any ListenerHandler)?
    var writes = WriteQueue()

    /// The epoll token: generation in the high half, slot in the low half (epoll_event.data.u64).
    static func token(slot: Int, generation: UInt32) -> UInt64 { UInt64(generation) << 32 | UInt64(slot) }
}

/// Bytes waiting for the kernel, flushed with one writev of up to `maxIovecs` chunks.
///
/// Chunks are kept as the caller's arrays (no copy); `head` and `headOffset` mark what has been sent. An empty
/// queue holds no allocation at all.
struct WriteQueue {
    static let maxIovecs = 16

    private var chunks: [[UInt8]] = []
    private var head = 0
    private var headOffset = 0
    private(set) var pendingBytes = 0

    var isEmpty: Bool { pendingBytes == 0 }

    /// Queues `bytes`, of which the first `alreadySent` already went out.
    mutating func append(_ bytes: [UInt8], alreadySent: Int = 0) {
        guard bytes.count > alreadySent else { return }
        if alreadySent > 0 {
            precondition(chunks.isEmpty, "only the first chunk may be partially sent")
            headOffset = alreadySent
        }
        chunks.append(bytes)
        pendingBytes += bytes.count - alreadySent
    }

    /// One writev of the head chunks. Returns `.done(true)` when the queue is empty afterwards,
    /// `.done(false)` when bytes remain (the kernel took less), `.wouldBlock` when it took nothing.
    mutating func flush(fd: Int32, iovecs: UnsafeMutableBufferPointer<iovec>, system: SystemCalls) throws(SystemError)
        -> IOResult<Bool>
    {
        let end = min(chunks.count, head + min(iovecs.count, WriteQueue.maxIovecs))
        var result: IOResult<Int> = .wouldBlock
        var failure: SystemError?
        // Nested withUnsafeBytes (one level per chunk) keeps every chunk's storage pinned during the writev.
        func gather(_ index: Int) {
            if index == end {
                do {
                    result = try system.writev(fd, UnsafeMutableBufferPointer(rebasing: iovecs[0..<(end - head)]))
                } catch {
                    failure = error
                }
                return
            }
            chunks[index].withUnsafeBytes { bytes in
                let skip = index == head ? headOffset : 0
                iovecs[index - head] = iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + skip), iov_len: bytes.count - skip)
                gather(index + 1)
            }
        }
        gather(head)
        if let failure { throw failure }
        // 0 bytes for a non-empty writev should not happen on a socket; treat it as "full" rather than loop.
        guard case .done(let written) = result, written > 0 else { return .wouldBlock }
        consume(written)
        return .done(isEmpty)
    }

    private mutating func consume(_ count: Int) {
        var remaining = count
        pendingBytes -= count
        while remaining > 0 {
            let available = chunks[head].count - headOffset
            if remaining >= available {
                remaining -= available
                head += 1
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if head == chunks.count {
            // Give the memory back: an idle connection keeps no write buffer.
            chunks = []
            head = 0
            headOffset = 0
        } else if head >= 64 && head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
