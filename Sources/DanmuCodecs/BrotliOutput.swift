import CBrotliDictionary
import Glibc

/// The decoder's output buffer. It doubles as the sliding window: the whole stream is decoded into one
/// contiguous buffer, so a backward distance is a plain pointer difference and no ring buffer wraps.
///
/// Decoding starts in the storage of the result array itself (sized from the first meta-block header), so the
/// common case copies nothing; if the output outgrows it, the bytes move to a malloc'd buffer that grows with
/// realloc. Growth is checked against the caller's limit before any allocation; `slack` spare bytes past the
/// capacity let the copy loops write whole chunks.
struct BrotliOutput {
    static let slack = 64

    private(set) var base: UnsafeMutablePointer<UInt8>
    /// Usable bytes at `base` (there are `slack` more behind them).
    private(set) var capacity: Int
    var count = 0
    let limit: Int
    /// False while `base` is the result array's storage, true once the bytes live in our own malloc'd buffer.
    private(set) var ownsBase = false

    /// Starts in borrowed storage of `capacity + slack` bytes.
    init(borrowing storage: UnsafeMutablePointer<UInt8>, capacity: Int, limit: Int) {
        base = storage
        self.capacity = capacity
        self.limit = limit
    }

    /// Makes room for `additional` more bytes (the caller has checked `count + additional <= limit`).
    ///
    /// The decoder reserves a whole meta-block (MLEN ≤ 16 MiB) at its header. That is the header's claim, not
    /// data, but it is capped by `limit`, and malloc/realloc of large blocks maps pages lazily (and realloc
    /// moves them without copying), so an unbacked claim costs address space, not memory.
    @inline(__always)
    mutating func reserve(_ additional: Int) {
        if count + additional > capacity { grow(count + additional) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        capacity = min(max(needed, capacity * 2), max(needed, limit))
        let bytes = capacity + Self.slack
        if ownsBase {
            guard let raw = realloc(base, bytes) else { fatalError("brotli: out of memory for \(bytes) bytes") }
            base = raw.assumingMemoryBound(to: UInt8.self)
        } else {
            guard let raw = malloc(bytes) else { fatalError("brotli: out of memory for \(bytes) bytes") }
            let newBase = raw.assumingMemoryBound(to: UInt8.self)
            newBase.update(from: base, count: count)
            base = newBase
            ownsBase = true
        }
    }

    /// Appends bytes taken straight from the input (uncompressed meta-blocks).
    mutating func append(_ bytes: UnsafeRawPointer, count n: Int) {
        reserve(n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: bytes, byteCount: n)
        count += n
    }

    /// When the bytes moved to our own buffer: copies them into an array and frees the buffer.
    func finishOwned() -> [UInt8] {
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { buffer.baseAddress!.update(from: base, count: count) }
            initialized = count
        }
        free(base)
        return result
    }

    /// Frees our own buffer, if any.
    func discard() {
        if ownsBase { free(base) }
    }
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
