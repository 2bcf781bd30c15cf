/// Writes compact JSON text into a byte array, inserting commas and colons itself.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("cmd"); w.string("DANMU_MSG"); w.key("n"); w.int(3); w.endObject()
/// // {"cmd":"DANMU_MSG","n":3}
/// ```
/// Strings are escaped per RFC 8259: `"` and `\` with a backslash, control characters as `\b \f \n \r \t` or `\u00XX`,
/// `/` left alone; non-ASCII is kept as UTF-8, or written as `\uXXXX` (surrogate pairs above U+FFFF) with
/// `asciiOnly`. Non-finite doubles have no JSON form and are written as `null`. The writer does not check that
/// calls nest correctly (`key` outside an object, unbalanced `end…`); that is the caller's contract.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]
    /// Escape every non-ASCII scalar as `\uXXXX`.
    public var asciiOnly: Bool
    // True when the next value or key needs a ',' before it (a sibling was written at this level).
    private var needsComma = false

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

    public mutating func beginObject() {
        separate()
        bytes.append(0x7B)
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(0x7D)
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(0x5B)
        needsComma = false
    }

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

    public mutating func string(_ value: String) {
        separate()
        JSONWriter.escape(value, asciiOnly: asciiOnly, into: &bytes)
        needsComma = true
    }

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
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
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
                if scalar.value < 0x80 {
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
                // Copy runs that need no escaping in one append.
                var runStart = 0
                for i in 0..<utf8.count where utf8[i] < 0x20 || utf8[i] == 0x22 || utf8[i] == 0x5C {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                    appendEscaped(utf8[i], into: &out)
                    runStart = i + 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
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

    @inline(__always)
    private static func appendEscaped(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x08: out.append(contentsOf: [0x5C, 0x62])
        case 0x0C: out.append(contentsOf: [0x5C, 0x66])
        case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: out.append(contentsOf: [0x5C, 0x72])
        case 0x09: out.append(contentsOf: [0x5C, 0x74])
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
