/// Text → Double for validated JSON number literals.
///
/// The fast path is Clinger's: when the decimal significand fits in 2^53 and the decimal exponent is at most 22 in
/// magnitude, both operands are exact doubles and one IEEE multiplication or division rounds correctly. Everything
/// else goes to the standard library's `Double(Substring)`, which is correctly rounded (and gives ±infinity beyond the
/// Double range).
enum JSONNumber {
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ]

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
