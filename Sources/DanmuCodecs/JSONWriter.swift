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
    private var needsComma = false

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

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(0x2C) }
    }

    /// Opens an object (`{`); follow with `key(_:)` + value pairs and `endObject()`.
    public mutating func beginObject() {
        separate()
        bytes.append(0x7B)
        needsComma = false
    }

    /// Closes the innermost object (`}`).
    public mutating func endObject() {
        bytes.append(0x7D)
        needsComma = true
    }

    /// Opens an array (`[`).
    public mutating func beginArray() {
        separate()
        bytes.append(0x5B)
        needsComma = false
    }

    /// Closes the innermost array (`]`).
    public mutating func endArray() {
        bytes.append(0x5D)
        needsComma = true
    }

    /// Writes a member key and its `:`; the next call writes the member's value.
    public mutating func key(_ key: String) {
        separate()
        JSONWriter.escape(key, asciiOnly: asciiOnly, into: &bytes)
        bytes.append(0x3A)
        needsComma = false
    }

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        separate()
        JSONWriter.escape(value, asciiOnly: asciiOnly, into: &bytes)
        needsComma = true
    }

    // Concrete overloads: a generic call from another module would not be specialised.
    /// Writes an integer in decimal.
    public mutating func int(_ value: Int64) {
        separate()
        JSONWriter.appendDecimal(value, into: &bytes)
        needsComma = true
    }

    /// Writes an integer in decimal.
    public mutating func int(_ value: Int) {
        int(Int64(value))
    }

    /// Writes an integer of any width in decimal (beyond Int64 via its `description`).
    public mutating func int(_ value: some BinaryInteger) {
        separate()
        if let v = Int64(exactly: value) {
            JSONWriter.appendDecimal(v, into: &bytes)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
        needsComma = true
    }

    /// Writes the shortest text that parses back to `value` (`Double.description`); `null` for NaN and infinities.
    public mutating func double(_ value: Double) {
        separate()
        if value.isFinite {
            bytes.append(contentsOf: value.description.utf8)
        } else {
            JSONWriter.appendNull(into: &bytes)
        }
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: "true".utf8)
        } else {
            bytes.append(contentsOf: "false".utf8)
        }
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        JSONWriter.appendNull(into: &bytes)
        needsComma = true
    }

    /// Inserts pre-encoded JSON text as one value (e.g. ``JSONNode/rawBytes``). Not validated.
    public mutating func raw(_ text: some Sequence<UInt8>) {
        separate()
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
        out.append(0x22)
        if asciiOnly {
            for scalar in value.unicodeScalars {
                if scalar.value < 0x7F {
                    appendEscaped(UInt8(scalar.value), into: &out)
                } else if scalar.value < 0x10000 {
                    appendUnicodeEscape(UInt16(scalar.value), into: &out)
                } else {
                    for unit in String(scalar).utf16 { appendUnicodeEscape(unit, into: &out) }
                }
            }
        } else {
            var value = value
            value.withUTF8 { utf8 in
                // Copy runs that need no escaping in one append, finding the next `"`, `\` or control byte eight
                // bytes at a time (non-ASCII passes through unchanged).
                guard let base = utf8.baseAddress else { return }
                let n = utf8.count
                var runStart = 0
                var i = 0
                while true {
                    while i &+ 8 <= n {
                        let mask = JSONWriter.escapeMask(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                        if mask != 0 {
                            i &+= mask.trailingZeroBitCount &>> 3
                            break
                        }
                        i &+= 8
                    }
                    while i < n && base[i] >= 0x20 && base[i] != 0x22 && base[i] != 0x5C { i &+= 1 }
                    out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i &- runStart))
                    if i >= n { break }
                    appendEscaped(base[i], into: &out)
                    i &+= 1
                    runStart = i
                }
            }
        }
        out.append(0x22)
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

    /// Appends the decimal text of `value` without creating a String.
    static func appendDecimal(_ value: Int64, into out: inout [UInt8]) {
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { out.append(0x2D) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }
}
