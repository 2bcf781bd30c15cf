/// The single-pass validating parser behind ``JSONDocument``.
///
/// It walks the input once with an explicit container stack (never recursion: 100,000 `[` give a depth error, not a
/// stack overflow) and appends one tape entry per value. Everything RFC 8259 forbids is rejected here, so that the
/// lazy accessors on ``JSONNode`` can assume well-formed text.
struct JSONParser {
    private let p: UnsafePointer<UInt8>
    private let end: Int
    private let maxDepth: Int
    private var tape: JSONTapeBuffer

    private static let quote: UInt8 = 0x22
    private static let backslash: UInt8 = 0x5C

    /// `input` must not be empty (the caller reports that as `unexpectedEnd` at 0).
    init(_ input: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        p = input
        end = count
        self.maxDepth = max(0, maxDepth)
        // Compact DANMU_MSG bodies hold one value per 4.6 (2021 shape) to 13 (2024 shape) bytes: guess one per 4 so
        // that the tape never grows for them; it doubles when the guess is wrong.
        tape = JSONTapeBuffer(capacity: count / 4 + 16)
    }

    /// Parses the whole input; on success the caller owns the returned tape memory.
    mutating func parse() throws(JSONError) -> JSONTapeBuffer {
        guard end < Int(UInt32.max) else {
            tape.deallocate()
            throw JSONError(offset: 0, reason: .documentTooLarge)
        }
        // The container stack lives on the machine stack for the usual depths (temporary allocation).
        // Each open container consumes an input byte, so the input length also bounds the depth (and keeps a huge
        // `maxDepth` from overflowing the allocation size).
        let levels = max(1, min(maxDepth, end))
        let result = withUnsafeTemporaryAllocation(of: Int.self, capacity: levels * 2) { stack in
            do throws(JSONError) {
                try run(stack: stack.baseAddress!)
                return Result<Void, JSONError>.success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result {
            tape.deallocate()
            throw error
        }
        return tape
    }

    // MARK: - Structure

    /// `stack[2 * d]` is the tape index of the container open at depth `d`, `stack[2 * d + 1]` its entry count.
    private mutating func run(stack: UnsafeMutablePointer<Int>) throws(JSONError) {
        var pos = skipWhitespace(0)
        var depth = 0
        // Kind of the innermost open container, kept in a register: reading it back from the tape on every value
        // stalled on the dependent loads.
        var inObject = false
        valueLoop: while true {
            // A value is expected at `pos`.
            guard pos < end else { throw JSONError(offset: pos, reason: .unexpectedEnd) }
            let c = p[pos]
            switch c {
            case 0x7B, 0x5B:  // { [
                guard depth < maxDepth else { throw JSONError(offset: pos, reason: .depthLimitExceeded(maxDepth)) }
                let isObject = c == 0x7B
                stack[2 &* depth] = tape.count
                stack[2 &* depth &+ 1] = 0
                depth &+= 1
                inObject = isObject
                tape.append(JSONTag.word(isObject ? JSONTag.object : JSONTag.array, offset: pos), 0)
                pos = skipWhitespace(pos &+ 1)
                guard pos < end else { throw JSONError(offset: pos, reason: .unexpectedEnd) }
                if p[pos] == (isObject ? 0x7D : 0x5D) {
                    try close(stack, depth &- 1, at: pos)
                    depth &-= 1
                    pos &+= 1
                    if depth > 0 { inObject = isObjectAt(stack, depth &- 1) }
                } else if isObject {
                    pos = try key(pos, stack, depth &- 1)
                    continue valueLoop
                } else {
                    stack[2 &* (depth &- 1) &+ 1] &+= 1
                    continue valueLoop
                }
            case JSONParser.quote:
                pos = try string(pos)
            case 0x2D, 0x30...0x39:  // - 0-9
                pos = try number(pos)
            case 0x74:  // t
                try literal(pos, 0x74_72_75_65, count: 4)
                tape.append(JSONTag.word(JSONTag.true, offset: pos), 0)
                pos &+= 4
            case 0x66:  // f
                try literal(pos &+ 1, 0x61_6C_73_65, count: 4)
                tape.append(JSONTag.word(JSONTag.false, offset: pos), 0)
                pos &+= 5
            case 0x6E:  // n
                try literal(pos, 0x6E_75_6C_6C, count: 4)
                tape.append(JSONTag.word(JSONTag.null, offset: pos), 0)
                pos &+= 4
            default:
                throw JSONError(offset: pos, reason: .unexpectedByte(c))
            }
            // After a value: close containers until one continues with ','.
            while true {
                pos = skipWhitespace(pos)
                if depth == 0 {
                    guard pos == end else { throw JSONError(offset: pos, reason: .trailingData) }
                    return
                }
                guard pos < end else { throw JSONError(offset: pos, reason: .unexpectedEnd) }
                let top = depth &- 1
                let isObject = inObject
                let c = p[pos]
                if c == 0x2C {  // ,
                    pos = skipWhitespace(pos &+ 1)
                    guard pos < end else { throw JSONError(offset: pos, reason: .unexpectedEnd) }
                    let next = p[pos]
                    if next == 0x5D || next == 0x7D { throw JSONError(offset: pos, reason: .trailingComma) }
                    if isObject {
                        pos = try key(pos, stack, top)
                    } else {
                        stack[2 &* top &+ 1] &+= 1
                    }
                    continue valueLoop
                } else if c == (isObject ? 0x7D : 0x5D) {
                    try close(stack, top, at: pos)
                    depth = top
                    pos &+= 1
                    if depth > 0 { inObject = isObjectAt(stack, depth &- 1) }
                } else {
                    throw JSONError(offset: pos, reason: .expectedCommaOrEnd)
                }
            }
        }
    }

    @inline(__always)
    private func isObjectAt(_ stack: UnsafeMutablePointer<Int>, _ level: Int) -> Bool {
        tape.base[2 &* stack[2 &* level]] >> JSONTag.kindShift == JSONTag.object
    }

    /// Records the closing bracket at `pos` for the container at stack level `level`.
    @inline(__always)
    private mutating func close(_ stack: UnsafeMutablePointer<Int>, _ level: Int, at pos: Int) throws(JSONError) {
        let node = stack[2 &* level]
        let count = stack[2 &* level &+ 1]
        guard UInt64(count) <= JSONTag.fieldMask else { throw JSONError(offset: pos, reason: .documentTooLarge) }
        tape.base[2 &* node] |= UInt64(count) << JSONTag.fieldShift
        tape.base[2 &* node &+ 1] = UInt64(pos) << 32 | UInt64(tape.count)
    }

    /// Parses `"key" :` and leaves `pos` on the member's value.
    @inline(__always)
    private mutating func key(_ start: Int, _ stack: UnsafeMutablePointer<Int>, _ level: Int) throws(JSONError) -> Int {
        guard p[start] == JSONParser.quote else { throw JSONError(offset: start, reason: .expectedKey) }
        var pos = skipWhitespace(try string(start))
        guard pos < end else { throw JSONError(offset: pos, reason: .unexpectedEnd) }
        guard p[pos] == 0x3A else { throw JSONError(offset: pos, reason: .expectedColon) }
        pos = skipWhitespace(pos &+ 1)
        stack[2 &* level &+ 1] &+= 1
        return pos
    }

    @inline(__always)
    private func skipWhitespace(_ start: Int) -> Int {
        var i = start
        while i < end {
            let b = p[i]
            if b > 0x20 { return i }
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return i }
            i &+= 1
        }
        return i
    }

    /// Checks that the `count` bytes at `start` spell `expected` (big-endian packed ASCII).
    @inline(__always)
    private func literal(_ start: Int, _ expected: UInt32, count: Int) throws(JSONError) {
        for k in 0..<count {
            let want = UInt8(truncatingIfNeeded: expected >> (8 * UInt32(count - 1 - k)))
            guard start + k < end else { throw JSONError(offset: end, reason: .unexpectedEnd) }
            guard p[start + k] == want else { throw JSONError(offset: start + k, reason: .invalidLiteral) }
        }
    }

    // MARK: - Numbers

    /// Validates the number at `start` (RFC 8259 §6 grammar) and records it; integers that fit Int64 are stored
    /// with their value so that `int64` is a tape read.
    private mutating func number(_ start: Int) throws(JSONError) -> Int {
        let scan = JSONNumber.scan(p, from: start, end: end)
        if let failure = scan.failure { throw JSONError(offset: scan.end, reason: failure) }
        let length = scan.end &- start
        if let value = scan.integer {
            tape.append(
                JSONTag.word(JSONTag.number, offset: start, field: UInt64(length), flag: true),
                UInt64(bitPattern: value))
        } else {
            tape.append(JSONTag.word(JSONTag.number, offset: start), UInt64(length))
        }
        return scan.end
    }

    // MARK: - Strings

    /// Validates the string whose opening quote is at `start` and records it. Returns the offset after the closing
    /// quote.
    private mutating func string(_ start: Int) throws(JSONError) -> Int {
        var i = start &+ 1
        var escaped = false
        while true {
            // Eight bytes at a time while none is a quote, backslash, control byte or non-ASCII; then jump straight
            // to the first such byte (the lowest flagged byte of the SWAR mask is exact).
            while i &+ 8 <= end {
                let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                let mask = JSONParser.specialBytes(w)
                if mask != 0 {
                    i &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < end else { throw JSONError(offset: end, reason: .unexpectedEnd) }
            let b = p[i]
            if b == JSONParser.quote { break }
            if b == JSONParser.backslash {
                escaped = true
                i = try escape(i)
            } else if b < 0x20 {
                throw JSONError(offset: i, reason: .controlCharacterInString)
            } else if b < 0x80 {
                i &+= 1
            } else {
                i = try utf8Sequence(i)
            }
        }
        tape.append(JSONTag.word(JSONTag.string, offset: start, flag: escaped), UInt64(i &- start &- 1))
        return i &+ 1
    }

    /// High bit set in each byte of `w` (little-endian) that is `"`, `\`, below 0x20 or at least 0x80 (SWAR).
    /// Borrows can flag extra bytes, but only above a truly flagged one, so the lowest set bit is always exact.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quoteX = w ^ (ones &* 0x22)
        let slashX = w ^ (ones &* 0x5C)
        // (x - 1) & ~x has the high bit set for a zero byte; w - 0x20 flags bytes below 0x20; w itself flags ≥ 0x80.
        let zeroQuote = (quoteX &- ones) & ~quoteX
        let zeroSlash = (slashX &- ones) & ~slashX
        let control = (w &- ones &* 0x20) & ~w
        return (zeroQuote | zeroSlash | control | w) & high
    }

    /// Validates the escape whose backslash is at `start`; returns the offset after it.
    @inline(__always)
    private func escape(_ start: Int) throws(JSONError) -> Int {
        guard start &+ 1 < end else { throw JSONError(offset: end, reason: .unexpectedEnd) }
        switch p[start &+ 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            return start &+ 2
        case 0x75:  // u
            let unit = try hex4(start &+ 2)
            if unit & 0xFC00 == 0xD800 {
                // A high surrogate must be followed by an escaped low surrogate.
                guard start &+ 7 < end, p[start &+ 6] == JSONParser.backslash, p[start &+ 7] == 0x75 else {
                    throw JSONError(offset: start, reason: .loneSurrogate)
                }
                let low = try hex4(start &+ 8)
                guard low & 0xFC00 == 0xDC00 else { throw JSONError(offset: start, reason: .loneSurrogate) }
                return start &+ 12
            }
            if unit & 0xFC00 == 0xDC00 { throw JSONError(offset: start, reason: .loneSurrogate) }
            return start &+ 6
        default:
            throw JSONError(offset: start &+ 1, reason: .invalidEscape)
        }
    }

    @inline(__always)
    private func hex4(_ start: Int) throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            guard start &+ k < end else { throw JSONError(offset: end, reason: .unexpectedEnd) }
            guard let digit = JSONParser.hexValue(p[start &+ k]) else {
                throw JSONError(offset: start &+ k, reason: .invalidUnicodeEscape)
            }
            value = value << 4 | digit
        }
        return value
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt32? {
        if b &- 0x30 < 10 { return UInt32(b &- 0x30) }
        let lower = b | 0x20
        if lower &- 0x61 < 6 { return UInt32(lower &- 0x61 &+ 10) }
        return nil
    }

    /// Validates one multi-byte UTF-8 sequence at `start`; returns the offset after it.
    @inline(__always)
    private func utf8Sequence(_ start: Int) throws(JSONError) -> Int {
        guard let next = Self.utf8SequenceEnd(p, start, end: end) else {
            throw JSONError(offset: start, reason: .invalidUTF8)
        }
        return next
    }

    /// The one check of a multi-byte UTF-8 sequence at `start` in `p[..<end]` (Unicode Table 3-7: no overlongs, no
    /// surrogates, nothing above U+10FFFF, no truncation), shared with `JSONOnDemand`: the offset after it, or nil.
    @inline(__always)
    static func utf8SequenceEnd(_ p: UnsafePointer<UInt8>, _ start: Int, end: Int) -> Int? {
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch p[start] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard start &+ length <= end else { return nil }
        let second = p[start &+ 1]
        guard second >= low && second <= high else { return nil }
        for k in 2..<max(length, 2) where p[start &+ k] & 0xC0 != 0x80 { return nil }
        return start &+ length
    }
}
