/// A parsed JSON document: the source bytes plus one flat "tape" of nodes over them.
///
/// Parsing is a single pass that validates the whole input (RFC 8259 strict, UTF-8 validated, see ``JSONError``)
/// and records every value as a fixed-size tape entry; nothing is allocated per node and strings are decoded only
/// when ``JSONNode/string`` is asked. Navigation (``root``, subscripts, ``JSONNode/elements``) walks the tape
/// without allocating.
///
/// Policy choices (RFC 8259 leaves them open):
/// - duplicate object keys are accepted and kept; lookups by key return the **first** member with that key;
/// - numbers of any size are accepted; ``JSONNode/int64`` is exact or `nil`, ``JSONNode/double`` is correctly
///   rounded and may be ±infinity for literals beyond the `Double` range (e.g. `1e400`);
/// - nesting deeper than `maxDepth` containers (default 64) is rejected with ``JSONError/Reason/depthLimitExceeded(_:)``.
public struct JSONDocument: Sendable {
    let storage: JSONStorage

    /// Parses `bytes`, keeping a reference to the array (no copy).
    public init(parsing bytes: [UInt8], maxDepth: Int = 64) throws(JSONError) {
        guard !bytes.isEmpty else { throw JSONError(offset: 0, reason: .unexpectedEnd) }
        let result = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer.baseAddress!, count: buffer.count, maxDepth: maxDepth)
            return Result { () throws(JSONError) in try parser.parse() }
        }
        storage = JSONStorage(bytes: bytes, tape: try result.get())
    }

    /// Parses a copy of `bytes` (the document must outlive the caller's buffer).
    public init(parsing bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONError) {
        try self.init(parsing: [UInt8](bytes), maxDepth: maxDepth)
    }

    /// Parses the UTF-8 of `text`.
    public init(parsing text: String, maxDepth: Int = 64) throws(JSONError) {
        try self.init(parsing: Array(text.utf8), maxDepth: maxDepth)
    }

    /// The top-level value.
    public var root: JSONNode { JSONNode(storage: storage, index: 0) }

    /// The source bytes the document was parsed from.
    public var bytes: [UInt8] { storage.bytes }

    /// Number of values (including object keys) recorded on the tape.
    public var nodeCount: Int { storage.tape.count / 2 }
}

/// Layout of one tape node: two `UInt64` words.
///
/// Word A: `kind` in bits 61–63, a flag in bit 60, a 28-bit field in bits 32–59, the source offset in bits 0–31.
/// Word B depends on the kind:
/// - string: byte length of the text between the quotes; flag = contains escapes;
/// - number: flag = integer literal that fits Int64, then B = the value's bits and the 28-bit field = text length;
///   otherwise B = text length;
/// - array/object: 28-bit field = element/member count; B = end offset (of the closing bracket) << 32 | index of
///   the first node after the container's subtree. Object members are stored as key node, value subtree, ...
/// - null/false/true: B = 0.
enum JSONTag {
    static let null: UInt64 = 0
    static let `false`: UInt64 = 1
    static let `true`: UInt64 = 2
    static let number: UInt64 = 3
    static let string: UInt64 = 4
    static let array: UInt64 = 5
    static let object: UInt64 = 6

    static let kindShift: UInt64 = 61
    static let flag: UInt64 = 1 << 60
    static let fieldShift: UInt64 = 32
    static let fieldMask: UInt64 = (1 << 28) - 1
    static let offsetMask: UInt64 = 0xFFFF_FFFF

    @inline(__always) static func word(_ kind: UInt64, offset: Int, field: UInt64 = 0, flag: Bool = false) -> UInt64 {
        kind << kindShift | (flag ? JSONTag.flag : 0) | field << fieldShift | UInt64(truncatingIfNeeded: offset)
    }
}

/// A growable buffer of tape words owned by the parser until it is handed to ``JSONStorage``.
struct JSONTapeBuffer {
    var base: UnsafeMutablePointer<UInt64>
    var capacity: Int  // in nodes
    var count: Int  // in nodes

    init(capacity: Int) {
        self.capacity = max(capacity, 4)
        base = UnsafeMutablePointer<UInt64>.allocate(capacity: self.capacity * 2)
        count = 0
    }

    @inline(__always) mutating func append(_ a: UInt64, _ b: UInt64) {
        if count == capacity { grow() }
        base[count &* 2] = a
        base[count &* 2 &+ 1] = b
        count &+= 1
    }

    @inline(never) mutating func grow() {
        let newCapacity = capacity * 2
        let newBase = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity * 2)
        newBase.update(from: base, count: count * 2)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    func deallocate() { base.deallocate() }
}

/// The immutable backing of a document and of every node cursor into it.
final class JSONStorage: @unchecked Sendable {
    // @unchecked: both fields are written once in init and never mutated; the tape memory is freed in deinit only.
    let bytes: [UInt8]
    let tape: UnsafeBufferPointer<UInt64>

    init(bytes: [UInt8], tape: JSONTapeBuffer) {
        self.bytes = bytes
        self.tape = UnsafeBufferPointer(start: tape.base, count: tape.count * 2)
    }

    deinit { tape.baseAddress?.deallocate() }

    @inline(__always) func wordA(_ node: Int) -> UInt64 { tape[node &* 2] }
    @inline(__always) func wordB(_ node: Int) -> UInt64 { tape[node &* 2 &+ 1] }
}
