/// A cursor to one value of a ``JSONDocument``.
///
/// A node is a (document, tape index) pair: copying and navigating never allocates. Accessors of the wrong kind
/// return `nil` (or an empty sequence) instead of trapping, so extraction code can chain optional lookups:
/// `doc.root["info"]?[0]?[4]?.int64`.
public struct JSONNode: Sendable {
    /// The JSON type of a value.
    public enum Kind: Sendable, Equatable {
        case null, bool, number, string, array, object
    }

    let storage: JSONStorage
    let index: Int

    init(storage: JSONStorage, index: Int) {
        self.storage = storage
        self.index = index
    }

    @inline(__always) var wordA: UInt64 { storage.wordA(index) }
    @inline(__always) var wordB: UInt64 { storage.wordB(index) }
    @inline(__always) var tag: UInt64 { wordA >> JSONTag.kindShift }
    @inline(__always) var offset: Int { Int(truncatingIfNeeded: wordA & JSONTag.offsetMask) }
    @inline(__always) var flag: Bool { wordA & JSONTag.flag != 0 }
    @inline(__always) var field: Int { Int(truncatingIfNeeded: (wordA >> JSONTag.fieldShift) & JSONTag.fieldMask) }

    /// The tape index just past this value's subtree.
    @inline(__always) var next: Int {
        let t = tag
        return t == JSONTag.array || t == JSONTag.object ? Int(truncatingIfNeeded: wordB & 0xFFFF_FFFF) : index &+ 1
    }

    /// The JSON type of this value.
    public var kind: Kind {
        switch tag {
        case JSONTag.null: return .null
        case JSONTag.false, JSONTag.true: return .bool
        case JSONTag.number: return .number
        case JSONTag.string: return .string
        case JSONTag.array: return .array
        default: return .object
        }
    }

    // MARK: - Containers

    /// The value of the first member named `key`, or `nil` if this is not an object or has no such member.
    public subscript(key: String) -> JSONNode? {
        guard tag == JSONTag.object else { return nil }
        var key = key
        return key.withUTF8 { member(utf8: $0) }
    }

    /// The value of the first member whose key's UTF-8 is `utf8` (after unescaping).
    public func member(utf8 key: UnsafeBufferPointer<UInt8>) -> JSONNode? {
        guard tag == JSONTag.object else { return nil }
        let end = next
        var i = index &+ 1
        while i < end {
            let keyNode = JSONNode(storage: storage, index: i)
            if keyNode.stringEquals(utf8: key) { return JSONNode(storage: storage, index: i &+ 1) }
            i = JSONNode(storage: storage, index: i &+ 1).next
        }
        return nil
    }

    /// The element at `index`, or `nil` if this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONNode? {
        guard tag == JSONTag.array, index >= 0, index < field else { return nil }
        var i = self.index &+ 1
        for _ in 0..<index { i = JSONNode(storage: storage, index: i).next }
        return JSONNode(storage: storage, index: i)
    }

    /// Number of elements (array) or members (object); 0 for scalars.
    public var count: Int {
        let t = tag
        return t == JSONTag.array || t == JSONTag.object ? field : 0
    }

    /// The elements of an array, in order (empty for other kinds).
    public var elements: Elements { Elements(node: self) }

    /// The members of an object in source order, duplicates included (empty for other kinds).
    public var members: Members { Members(node: self) }

    /// Elements of an array node.
    public struct Elements: Sequence, Sendable {
        let node: JSONNode

        /// Walks the tape from one element's subtree to the next.
        public struct Iterator: IteratorProtocol {
            let storage: JSONStorage
            var position: Int
            let end: Int

            /// The next element, or `nil` after the last.
            public mutating func next() -> JSONNode? {
                guard position < end else { return nil }
                let element = JSONNode(storage: storage, index: position)
                position = element.next
                return element
            }
        }

        public func makeIterator() -> Iterator {
            let isArray = node.tag == JSONTag.array
            return Iterator(storage: node.storage, position: node.index &+ 1, end: isArray ? node.next : 0)
        }

        public var underestimatedCount: Int { node.tag == JSONTag.array ? node.field : 0 }
    }

    /// Members of an object node; `keyNode` gives the key without decoding it.
    public struct Members: Sequence, Sendable {
        let node: JSONNode

        /// Walks the tape member by member (key node, value subtree).
        public struct Iterator: IteratorProtocol {
            let storage: JSONStorage
            var position: Int
            let end: Int

            /// The next member with its key as a node (no String allocated).
            public mutating func nextNodes() -> (keyNode: JSONNode, value: JSONNode)? {
                guard position < end else { return nil }
                let key = JSONNode(storage: storage, index: position)
                let value = JSONNode(storage: storage, index: position &+ 1)
                position = value.next
                return (key, value)
            }

            /// The next member with its key decoded.
            public mutating func next() -> (key: String, value: JSONNode)? {
                guard let (key, value) = nextNodes() else { return nil }
                return (key.string ?? "", value)
            }
        }

        public func makeIterator() -> Iterator {
            let isObject = node.tag == JSONTag.object
            return Iterator(storage: node.storage, position: node.index &+ 1, end: isObject ? node.next : 0)
        }

        public var underestimatedCount: Int { node.tag == JSONTag.object ? node.field : 0 }
    }

    // MARK: - Scalars

    /// `true`/`false` for a boolean, else `nil`.
    public var bool: Bool? {
        switch tag {
        case JSONTag.true: return true
        case JSONTag.false: return false
        default: return nil
        }
    }

    /// Whether this value is `null`.
    public var isNull: Bool { tag == JSONTag.null }

    /// The exact value of an integer literal (no fraction, no exponent) that fits Int64; `nil` otherwise.
    public var int64: Int64? {
        guard tag == JSONTag.number, flag else { return nil }
        return Int64(bitPattern: wordB)
    }

    /// Like ``int64`` but also accepts a string holding a decimal integer (`"123"`, `"-5"`; no spaces, no `+`) and a
    /// number such as `1.0` or `1e3` whose value is an exact integer within Int64 range. Bilibili sends ids both ways.
    public var int64Lenient: Int64? {
        switch tag {
        case JSONTag.number:
            if flag { return Int64(bitPattern: wordB) }
            guard let d = double, d == d.rounded(.towardZero), d >= -0x1p63, d < 0x1p63 else { return nil }
            return Int64(d)
        case JSONTag.string:
            guard !flag else { return string.flatMap { JSONNode.parseDecimal(Array($0.utf8)[...]) } }
            let start = offset &+ 1
            return JSONNode.parseDecimal(storage.bytes[start..<start &+ Int(truncatingIfNeeded: wordB)])
        default:
            return nil
        }
    }

    /// Strict `-?[0-9]+` to Int64 with overflow check.
    static func parseDecimal(_ text: ArraySlice<UInt8>) -> Int64? {
        var i = text.startIndex
        let negative = i < text.endIndex && text[i] == 0x2D
        if negative { i += 1 }
        guard i < text.endIndex else { return nil }
        var value: Int64 = 0
        while i < text.endIndex {
            let d = text[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = s
            i += 1
        }
        return value
    }

    /// The value of a number, correctly rounded (±infinity beyond the Double range); `nil` for other kinds.
    public var double: Double? {
        guard tag == JSONTag.number else { return nil }
        if flag {
            let v = Int64(bitPattern: wordB)
            if v.magnitude <= 1 << 53 { return Double(v) }
        }
        let start = offset
        let length = flag ? field : Int(truncatingIfNeeded: wordB)
        return storage.bytes.withUnsafeBufferPointer { bytes in
            JSONNumber.double(UnsafeBufferPointer(rebasing: bytes[start..<start &+ length]))
        }
    }

    /// The exact source text of this value (for strings: including the quotes).
    public var rawBytes: ArraySlice<UInt8> {
        let start = offset
        switch tag {
        case JSONTag.null, JSONTag.true: return storage.bytes[start..<start &+ 4]
        case JSONTag.false: return storage.bytes[start..<start &+ 5]
        case JSONTag.number:
            return storage.bytes[start..<start &+ (flag ? field : Int(truncatingIfNeeded: wordB))]
        case JSONTag.string: return storage.bytes[start..<start &+ Int(truncatingIfNeeded: wordB) &+ 2]
        default:
            return storage.bytes[start...Int(truncatingIfNeeded: wordB >> 32)]
        }
    }
}
