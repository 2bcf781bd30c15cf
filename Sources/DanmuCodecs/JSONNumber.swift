/// JSON number literals: the one RFC 8259 §6 scanner (`scan`, used by `JSONParser` and `JSONOnDemand`), and text →
/// Double for validated literals.
///
/// The Double fast path is Clinger's: when the decimal significand fits in 2^53 and the decimal exponent is at most 22 in
/// magnitude, both operands are exact doubles and one IEEE multiplication or division rounds correctly. Everything
/// else goes to the standard library's `Double(Substring)`, which is correctly rounded (and gives ±infinity beyond the
/// Double range).
enum JSONNumber {
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ]

    /// Where a number literal ends and, for an integer literal within Int64, its value.
    struct Scan {
        /// The offset after the literal; when `failure` is set, the offset of the byte (or end) that broke it.
        var end: Int
        /// The value, when the literal is an integer (no fraction, no exponent) within Int64.
        var integer: Int64?
        /// Why the bytes at `start` are not a number (nil: they are).
        var failure: JSONError.Reason?
    }

    /// Scans the RFC 8259 §6 number starting at `start` (a `-` or a digit) in `p[..<end]`.
    @inline(__always)
    static func scan(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> Scan {
        var i = start
        let negative = p[i] == 0x2D
        if negative { i &+= 1 }
        guard i < end else { return Scan(end: i, failure: .unexpectedEnd) }
        var magnitude: UInt64 = 0
        let digitStart = i
        let first = p[i]
        if first == 0x30 {
            i &+= 1
            if i < end && p[i] &- 0x30 < 10 { return Scan(end: i, failure: .leadingZero) }
        } else if first &- 0x31 < 9 {
            while i < end {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                magnitude = magnitude &* 10 &+ UInt64(d)
                i &+= 1
            }
        } else {
            return Scan(end: i, failure: .invalidNumber)
        }
        let integerDigits = i &- digitStart
        var isInteger = true
        if i < end && p[i] == 0x2E {  // .
            isInteger = false
            i &+= 1
            if let failure = digits(p, &i, end: end) { return Scan(end: i, failure: failure) }
        }
        if i < end && p[i] | 0x20 == 0x65 {  // e E
            isInteger = false
            i &+= 1
            if i < end && (p[i] == 0x2B || p[i] == 0x2D) { i &+= 1 }
            if let failure = digits(p, &i, end: end) { return Scan(end: i, failure: failure) }
        }
        // ≤ 19 digits cannot wrap a UInt64, so `magnitude` is exact there.
        guard isInteger && integerDigits <= 19 && magnitude <= (negative ? 1 << 63 : UInt64(Int64.max)) else {
            return Scan(end: i)
        }
        return Scan(end: i, integer: Int64(bitPattern: negative ? 0 &- magnitude : magnitude))
    }

    /// One or more decimal digits from `i` (moved past them); on failure `i` stays at the offending offset.
    @inline(__always)
    private static func digits(_ p: UnsafePointer<UInt8>, _ i: inout Int, end: Int) -> JSONError.Reason? {
        guard i < end else { return .unexpectedEnd }
        guard p[i] &- 0x30 < 10 else { return .invalidNumber }
        i &+= 1
        while i < end && p[i] &- 0x30 < 10 { i &+= 1 }
        return nil
    }

    /// `text` must be a syntactically valid JSON number.
    static func double(_ text: UnsafeBufferPointer<UInt8>) -> Double {
        if let fast = clinger(text) { return fast }
        return Double(Substring(decoding: text, as: UTF8.self)) ?? .nan
    }

    private static func clinger(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let n = text.count
        let negative = text[0] == 0x2D
        if negative { i = 1 }
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        // Integer part.
        while i < n, text[i] &- 0x30 < 10 {
            if significand != 0 || text[i] != 0x30 { digits &+= 1 }
            if digits > 19 { return nil }
            significand = significand &* 10 &+ UInt64(text[i] &- 0x30)
            i &+= 1
        }
        if i < n, text[i] == 0x2E {
            i &+= 1
            while i < n, text[i] &- 0x30 < 10 {
                if significand != 0 || text[i] != 0x30 { digits &+= 1 }
                if digits > 19 { return nil }
                significand = significand &* 10 &+ UInt64(text[i] &- 0x30)
                exponent &-= 1
                i &+= 1
            }
        }
        if i < n {  // e / E
            i &+= 1
            var exponentNegative = false
            if text[i] == 0x2D || text[i] == 0x2B {
                exponentNegative = text[i] == 0x2D
                i &+= 1
            }
            var e = 0
            while i < n {
                e = e &* 10 &+ Int(text[i] &- 0x30)
                if e > 10_000 { return nil }
                i &+= 1
            }
            exponent &+= exponentNegative ? -e : e
        }
        guard significand <= 1 << 53 else { return nil }
        var value = Double(significand)
        if significand != 0 {
            guard exponent >= -22 && exponent <= 22 else { return nil }
            value = exponent < 0 ? value / powersOfTen[-exponent] : value * powersOfTen[exponent]
        }
        return negative ? -value : value
    }
}
