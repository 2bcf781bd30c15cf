import Glibc

/// The growable output of an inflater: raw memory that never grows past `maxCapacity` (the output limit plus the
/// history kept for back-references), so a decompression bomb fails before it allocates more than the limit.
struct InflateOutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    var count = 0
    private(set) var capacity = 0
    /// Hard ceiling of `capacity`.
    var maxCapacity: Int

    init(initialCapacity: Int, maxCapacity: Int) {
        self.maxCapacity = maxCapacity
        _ = grow(to: min(max(initialCapacity, 64), maxCapacity))
    }

    /// Frees the memory; the buffer is empty afterwards.
    mutating func release() {
        free(base)
        base = nil
        count = 0
        capacity = 0
    }

    var freeCapacity: Int { capacity - count }

    /// Makes room for `n` more bytes or throws `.outputLimitExceeded`.
    @inline(__always)
    mutating func reserve(_ n: Int) throws(InflateError) {
        if capacity - count >= n { return }
        guard n <= maxCapacity - count, grow(to: min(maxCapacity, max(count + n, capacity * 2))) else {
            throw InflateError.outputLimitExceeded
        }
    }

    /// Tries to make room for `n` more bytes without failing (used before the fast loop, which needs slack).
    @discardableResult
    mutating func reserveIfPossible(_ n: Int) -> Bool {
        if capacity - count >= n { return true }
        let target = min(maxCapacity, max(count + n, capacity * 2))
        if target > capacity { _ = grow(to: target) }
        return capacity - count >= n
    }

    private mutating func grow(to newCapacity: Int) -> Bool {
        guard newCapacity > capacity else { return newCapacity == capacity }
        guard let memory = realloc(base, newCapacity) else { return false }
        base = memory.assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
        return true
    }

    /// Appends bytes (stored blocks). Precondition: room was reserved.
    mutating func append(_ source: UnsafePointer<UInt8>, count n: Int) {
        (base! + count).update(from: source, count: n)
        count += n
    }

    /// Drops all but the last `keep` bytes (the streaming inflater keeps 32 KiB of history).
    mutating func discardPrefix(keeping keep: Int) {
        guard count > keep, let base else { return }
        memmove(base, base + (count - keep), keep)  // regions overlap
        count = keep
    }
}
