import CBrotliDictionary

/// The decoder's output buffer. It doubles as the sliding window: the whole stream is decoded into one
/// contiguous buffer, so a backward distance is a plain pointer difference and no ring buffer wraps.
///
/// Growth is checked against the caller's limit before any allocation; `slack` spare bytes past the
/// logical end let the copy loops write whole 16-byte chunks.
struct BrotliOutput {
    static let slack = 64

    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0
    let limit: Int

    init(limit: Int, expected: Int) {
        self.limit = limit
        capacity = max(256, min(expected, limit))
        base = .allocate(capacity: capacity + Self.slack)
    }

    /// Makes room for `additional` more bytes (the caller has checked `count + additional <= limit`).
    @inline(__always)
    mutating func reserve(_ additional: Int) {
        if count + additional > capacity { grow(count + additional) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        let newCapacity = min(max(needed, capacity * 2), max(needed, limit))
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity + Self.slack)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends bytes taken straight from the input (uncompressed meta-blocks).
    mutating func append(_ bytes: UnsafeRawPointer, count n: Int) {
        reserve(n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: bytes, byteCount: n)
        count += n
    }

    /// Copies the result into an array and frees the buffer.
    func finish() -> [UInt8] {
        let result = [UInt8](UnsafeBufferPointer(start: base, count: count))
        base.deallocate()
        return result
    }

    func discard() { base.deallocate() }
}

/// Process-wide read-only copies of the static tables as raw pointers, so the hot loops index them without
/// array bounds checks (all indices are proven in range where they are used).
enum BrotliStatic {
    nonisolated(unsafe) static let contextLookup: UnsafePointer<UInt8> = pin(brotliContextLookup)
    nonisolated(unsafe) static let commands: UnsafePointer<UInt64> = pin(BrotliCommandTables.commands)
    nonisolated(unsafe) static let dictionary: UnsafePointer<UInt8> = danmu_brotli_dictionary_bytes()
    static let dictionarySize = Int(DANMU_BROTLI_DICTIONARY_SIZE)

    private static func pin<T>(_ array: [T]) -> UnsafePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: array.count)
        pointer.initialize(from: array, count: array.count)
        return UnsafePointer(pointer)
    }
}
