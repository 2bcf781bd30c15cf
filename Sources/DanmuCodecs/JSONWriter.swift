/// Writes compact JSON text into a byte array, inserting commas and colons itself.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("cmd"); w.string("DANMU_MSG"); w.key("n"); w.int(3); w.endObject()
/// // {"cmd":"DANMU_MSG","n":3}
/// ```
/// Strings are escaped per RFC 8259: `"` and `\` with a backslash, control characters as `\b \f \n \r \t` or `\u00XX`,
/// `/` left alone; non-ASCII is kept as UTF-8, or written as `\uXXXX` (surrogate pairs above U+FFFF; DEL too) with
/// `asciiOnly`. Non-finite doubles have no JSON form and are written as `null`. The writer does not check that
/// calls nest correctly (`key` outside an object, unbalanced `end…`); that is the caller's contract.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]
    /// Escape every non-ASCII scalar (and DEL) as `\uXXXX`, so the output is printable ASCII (as Python's
    /// `ensure_ascii`).
    public var asciiOnly: Bool
    // True when the next value or key needs a ',' before it (a sibling was written at this level).
    @usableFromInline internal var needsComma = false

    /// An empty writer; `capacity` bytes are reserved up front.
    public init(asciiOnly: Bool = false, capacity: Int = 256) {
        self.asciiOnly = asciiOnly
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the output, keeping its capacity (for reuse per line).
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// Starts a new top-level value with no `,` before it (JSON Lines: one value per line, the caller writes
    /// the newline).
    @inlinable
    public mutating func beginTopLevelValue() {
        needsComma = false
    }

    // The hot calls below are @inlinable and put the separating ',' and the token into ONE array append: each
    // `Array.append` costs a uniqueness check (a runtime call) and a capacity check, and a JSON Lines writer makes
    // ~100 of them per danmaku line — that bookkeeping, not the copying, was most of the 2.2 µs a line cost.

    /// Appends `literal`, which starts with `,`, without its comma unless a sibling precedes it.
    @inlinable @inline(__always)
    internal mutating func appendSeparated(_ literal: StaticString) {
        let comma = needsComma
        literal.withUTF8Buffer { text in
            bytes.append(contentsOf: comma ? text : UnsafeBufferPointer(rebasing: text.dropFirst()))
        }
    }

    /// Opens an object (`{`); follow with `key(_:)` + value pairs and `endObject()`.
    @inlinable
    public mutating func beginObject() {
        appendSeparated(",{")
        needsComma = false
    }

    /// Closes the innermost object (`}`).
    @inlinable
    public mutating func endObject() {
        bytes.append(0x7D)
        needsComma = true
    }

    /// Opens an array (`[`).
    @inlinable
    public mutating func beginArray() {
        appendSeparated(",[")
        needsComma = false
    }

    /// Closes the innermost array (`]`).
    @inlinable
    public mutating func endArray() {
        bytes.append(0x5D)
        needsComma = true
    }

    /// Writes a member key and its `:`; the next call writes the member's value.
    public mutating func key(_ key: String) {
        JSONWriter.escape(key, asciiOnly: asciiOnly, comma: needsComma, into: &bytes)
        bytes.append(0x3A)
        needsComma = false
    }

    /// Writes a member key known at compile time, without escaping it: the key must be printable ASCII
    /// other than `"` and `\` (checked in debug builds), so its JSON form is the key between quotes. The
    /// fast path for fixed schemas such as the JSON Lines output.
    @inlinable
    public mutating func key(static key: StaticString) {
        assert(JSONWriter.needsNoEscaping(key), "key(static:) takes printable ASCII without '\"' or '\\'")
        let comma = needsComma
        key.withUTF8Buffer { name in
            // `,"` + name + `":` assembled on the stack, then appended at once.
            let total = name.count &+ 4
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
                let base = buffer.baseAddress!
                base[0] = 0x2C
                base[1] = 0x22
                if let source = name.baseAddress { (base + 2).update(from: source, count: name.count) }
                base[total &- 2] = 0x22
                base[total &- 1] = 0x3A
                let start = comma ? 0 : 1
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: total &- start))
            }
        }
        needsComma = false
    }

    /// True when `key` is printable ASCII without `"` or `\` (what `key(static:)` requires).
    @usableFromInline
    static func needsNoEscaping(_ key: StaticString) -> Bool {
        key.withUTF8Buffer { name in name.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C } }
    }

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        JSONWriter.escape(value, asciiOnly: asciiOnly, comma: needsComma, into: &bytes)
        needsComma = true
    }

    // Concrete overloads: a generic call from another module would not be specialised.
    /// Writes an integer in decimal.
    @inlinable
    public mutating func int(_ value: Int64) {
        JSONWriter.appendDecimal(value, comma: needsComma, into: &bytes)
        needsComma = true
    }

    /// Writes an integer in decimal.
    @inlinable
    public mutating func int(_ value: Int) {
        int(Int64(value))
    }

    /// Writes an integer of any width in decimal (beyond Int64 via its `description`).
    public mutating func int(_ value: some BinaryInteger) {
        if let v = Int64(exactly: value) {
            JSONWriter.appendDecimal(v, comma: needsComma, into: &bytes)
        } else {
            if needsComma { bytes.append(0x2C) }
            bytes.append(contentsOf: String(value).utf8)
        }
        needsComma = true
    }

    /// Writes the shortest text that parses back to `value` (`Double.description`); `null` for NaN and infinities.
    public mutating func double(_ value: Double) {
        if value.isFinite {
            if needsComma { bytes.append(0x2C) }
            bytes.append(contentsOf: value.description.utf8)
        } else {
            appendSeparated(",null")
        }
        needsComma = true
    }

    /// Writes `true` or `false`.
    @inlinable
    public mutating func bool(_ value: Bool) {
        if value {
            appendSeparated(",true")
        } else {
            appendSeparated(",false")
        }
        needsComma = true
    }

    /// Writes `null`.
    @inlinable
    public mutating func null() {
        appendSeparated(",null")
        needsComma = true
    }

    /// Inserts pre-encoded JSON text as one value (e.g. ``JSONNode/rawBytes``). Not validated.
    public mutating func raw(_ text: some Sequence<UInt8>) {
        if needsComma { bytes.append(0x2C) }
        bytes.append(contentsOf: text)
        needsComma = true
    }

    /// Writes a whole value tree.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let object):
            beginObject()
            for (k, v) in object.members {
                key(k)
                self.value(v)
            }
            endObject()
        }
    }

    // MARK: - Primitives

    /// Appends `value` as a quoted, escaped JSON string.
    public static func escape(_ value: String, asciiOnly: Bool = false, into out: inout [UInt8]) {
        escape(value, asciiOnly: asciiOnly, comma: false, into: &out)
    }

    /// Appends `value` as a quoted, escaped JSON string, preceded by `,` when `comma` is set.
    @usableFromInline
    static func escape(_ value: String, asciiOnly: Bool, comma: Bool, into out: inout [UInt8]) {
        if asciiOnly {
            if comma { out.append(0x2C) }
            out.append(0x22)
            for scalar in value.unicodeScalars {
                if scalar.value < 0x7F {
                    appendEscaped(UInt8(scalar.value), into: &out)
                } else if scalar.value < 0x10000 {
                    appendUnicodeEscape(UInt16(scalar.value), into: &out)
                } else {
                    for unit in String(scalar).utf16 { appendUnicodeEscape(unit, into: &out) }
                }
            }
            out.append(0x22)
            return
        }
        var value = value
        value.withUTF8 { utf8 in
            let n = utf8.count
            guard let base = utf8.baseAddress else {
                appendLiteral(comma ? ",\"\"" : "\"\"", into: &out)
                return
            }
            var i = nextSpecialByte(base, count: n, from: 0)
            if i == n && n <= 256 {
                // Nearly every string needs no escaping: `,"` + text + `"` assembled on the stack, one append.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n &+ 3) { buffer in
                    let start = buffer.baseAddress!
                    start[0] = 0x2C
                    start[1] = 0x22
                    (start + 2).update(from: base, count: n)
                    start[n &+ 2] = 0x22
                    let skip = comma ? 0 : 1
                    out.append(contentsOf: UnsafeBufferPointer(start: start + skip, count: n &+ 3 &- skip))
                }
                return
            }
            // Copy runs that need no escaping in one append each (non-ASCII passes through unchanged).
            appendLiteral(comma ? ",\"" : "\"", into: &out)
            var runStart = 0
            while true {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i &- runStart))
                if i >= n { break }
                appendEscaped(base[i], into: &out)
                i &+= 1
                runStart = i
                i = nextSpecialByte(base, count: n, from: i)
            }
            out.append(0x22)
        }
    }

    /// The index of the first `"`, `\`, or control byte at or after `i` in `base[0..<count]`, else `count`;
    /// eight bytes at a time.
    @inline(__always)
    private static func nextSpecialByte(_ base: UnsafePointer<UInt8>, count n: Int, from start: Int) -> Int {
        var i = start
        while i &+ 8 <= n {
            let mask = escapeMask(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            if mask != 0 { return i &+ mask.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < n && base[i] >= 0x20 && base[i] != 0x22 && base[i] != 0x5C { i &+= 1 }
        return i
    }

    @inline(__always)
    private static func appendLiteral(_ literal: StaticString, into out: inout [UInt8]) {
        literal.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// The escaped, quoted form of `value` as bytes.
    public static func escape(_ value: String, asciiOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        escape(value, asciiOnly: asciiOnly, into: &out)
        return out
    }

    /// High bit set in each byte of `w` that is `"`, `\` or below 0x20; the lowest set bit is exact (see
    /// `JSONParser.specialBytes`). Bytes ≥ 0x80 are not flagged: UTF-8 passes through.
    @inline(__always)
    static func escapeMask(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quoteX = w ^ (ones &* 0x22)
        let slashX = w ^ (ones &* 0x5C)
        let zeroQuote = (quoteX &- ones) & ~quoteX
        let zeroSlash = (slashX &- ones) & ~slashX
        let control = (w &- ones &* 0x20) & ~w
        return (zeroQuote | zeroSlash | control) & 0x8080_8080_8080_8080
    }

    @inline(__always)
    private static func appendNull(into out: inout [UInt8]) {
        out.append(contentsOf: "null".utf8)
    }

    @inline(__always)
    private static func appendEscaped(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case 0x22: out.append(contentsOf: #"\""#.utf8)
        case 0x5C: out.append(contentsOf: #"\\"#.utf8)
        case 0x08: out.append(contentsOf: #"\b"#.utf8)
        case 0x0C: out.append(contentsOf: #"\f"#.utf8)
        case 0x0A: out.append(contentsOf: #"\n"#.utf8)
        case 0x0D: out.append(contentsOf: #"\r"#.utf8)
        case 0x09: out.append(contentsOf: #"\t"#.utf8)
        case 0..<0x20: appendUnicodeEscape(UInt16(byte), into: &out)
        default: out.append(byte)
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(0x5C)
        out.append(0x75)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hexDigits[Int(unit >> UInt16(shift)) & 0xF])
        }
    }

    /// Appends the decimal text of `value` (after a `,` when `comma` is set) in one append, without a String.
    @usableFromInline
    static func appendDecimal(_ value: Int64, comma: Bool, into out: inout [UInt8]) {
        var magnitude = value.magnitude
        // 19 digits for Int64.min, a sign and a comma.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { digits in
            var i = 21
            repeat {
                i &-= 1
                let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: 10)
                digits[i] = UInt8(truncatingIfNeeded: remainder) &+ 0x30
                magnitude = quotient
            } while magnitude != 0
            if value < 0 {
                i &-= 1
                digits[i] = 0x2D
            }
            if comma {
                i &-= 1
                digits[i] = 0x2C
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<21]))
        }
    }
}
