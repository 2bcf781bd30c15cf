import Glibc

/// On-demand reading of one JSON text, simdjson's On-Demand as the model: the caller walks to the values it
/// needs and everything else is skipped, without a tape and without allocating (only the strings it asks for
/// become `String`s).
///
/// It is still a **validating** reader: every byte it walks over, skipped or read, is checked with the rules of
/// ``JSONDocument``'s strict parser (structure, commas and colons, literals, RFC 8259 number grammar, string
/// escapes and surrogate pairs, UTF-8, nesting depth, nothing after the root value). So where it gives an answer,
/// the strict parser would have accepted the text.
///
/// It never guesses: every function returns a position after the value it handled, or ``fail`` (-1) when the
/// text is malformed *or* when it meets something it does not handle on its own (an escaped object key, a number
/// with a fraction read as an integer, an integer beyond Int64). The caller then parses the message with the
/// strict parser, which decides; so an on-demand reader's result is the strict path's result or nothing.
///
/// Positions are byte offsets into the buffer, which must stay valid while the reader is used.
public struct JSONOnDemand {
    @usableFromInline let p: UnsafePointer<UInt8>
    public let count: Int
    public let maxDepth: Int

    /// The "give up" position: malformed, or not something this reader decides alone.
    public static let fail = -1
    /// Returned by an `elements`/`members` body that did not read the value: the walker skips it.
    public static let skip = -2

    /// Nil for an empty buffer (an empty text is not JSON; the strict parser reports it).
    public init?(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) {
        guard let base = bytes.baseAddress, !bytes.isEmpty, bytes.count < Int(UInt32.max) else { return nil }
        p = base.assumingMemoryBound(to: UInt8.self)
        count = bytes.count
        self.maxDepth = max(0, maxDepth)
    }

    // MARK: - Document

    /// Where the root value starts (after leading whitespace).
    public var rootStart: Int { whitespace(0) }

    /// Whether `end` (just after the root value) is followed by nothing but whitespace.
    public func isDocumentEnd(_ end: Int) -> Bool { end >= 0 && whitespace(end) == count }

    /// The first byte of the value at `position` (`{`, `[`, `"`, a digit, `-`, `t`, `f`, `n`); 0 past the end.
    @inline(__always) public func byte(_ position: Int) -> UInt8 { position >= 0 && position < count ? p[position] : 0 }

    /// If the root is an object whose first member is `"cmd"` with an unescaped string value: that string's bytes.
    /// Nil otherwise, or when the text up to there is not JSON (the caller then parses in full).
    public func leadingCommand() -> UnsafeBufferPointer<UInt8>? {
        var i = rootStart
        guard byte(i) == 0x7B else { return nil }
        i = whitespace(i &+ 1)
        guard byte(i) == 0x22 else { return nil }
        var escaped = false
        let keyEnd = string(i, &escaped)
        guard keyEnd >= 0, !escaped, keyEnd &- i == 5, memcmp(p + (i &+ 1), "cmd", 3) == 0 else { return nil }
        i = whitespace(keyEnd)
        guard byte(i) == 0x3A else { return nil }
        i = whitespace(i &+ 1)
        guard byte(i) == 0x22 else { return nil }
        let valueEnd = string(i, &escaped)
        guard valueEnd >= 0, !escaped else { return nil }
        return UnsafeBufferPointer(start: p + (i &+ 1), count: valueEnd &- i &- 2)
    }

    // MARK: - Containers

    /// Walks the array at `position` (its `[`), calling `body(index, valueStart)` for each element; `body`
    /// returns the position after the value it read, ``skip`` to have it skipped, or ``fail``. `depth` is the
    /// number of containers around this array. Returns the position after `]`, or ``fail``.
    @inline(__always)
    public func elements(_ position: Int, depth: Int, _ body: (Int, Int) -> Int) -> Int {
        guard byte(position) == 0x5B, depth < maxDepth else { return Self.fail }
        var i = whitespace(position &+ 1)
        if byte(i) == 0x5D { return i &+ 1 }
        var index = 0
        while true {
            guard i < count else { return Self.fail }
            var end = body(index, i)
            if end == Self.skip { end = skipValue(i, depth: depth &+ 1) }
            guard end >= 0 else { return Self.fail }
            i = whitespace(end)
            switch byte(i) {
            case 0x2C:
                i = whitespace(i &+ 1)
                index &+= 1
            case 0x5D: return i &+ 1
            default: return Self.fail
            }
        }
    }

    /// Walks the object at `position` (its `{`), calling `body(keyStart, keyLength, valueStart)` for each member
    /// (the key's bytes between its quotes); returns as ``elements(_:depth:_:)`` does. An escaped key gives up
    /// (a lookup would have to unescape it to compare) unless `escapedKeys` says the body only skips.
    @inline(__always)
    public func members(_ position: Int, depth: Int, escapedKeys: Bool = false, _ body: (Int, Int, Int) -> Int)
        -> Int
    {
        guard byte(position) == 0x7B, depth < maxDepth else { return Self.fail }
        var i = whitespace(position &+ 1)
        if byte(i) == 0x7D { return i &+ 1 }
        while true {
            guard byte(i) == 0x22 else { return Self.fail }
            var escaped = false
            let keyEnd = string(i, &escaped)
            guard keyEnd >= 0, escapedKeys || !escaped else { return Self.fail }
            var v = whitespace(keyEnd)
            guard byte(v) == 0x3A else { return Self.fail }
            v = whitespace(v &+ 1)
            guard v < count else { return Self.fail }
            var end = body(i &+ 1, keyEnd &- i &- 2, v)
            if end == Self.skip { end = skipValue(v, depth: depth &+ 1) }
            guard end >= 0 else { return Self.fail }
            i = whitespace(end)
            switch byte(i) {
            case 0x2C: i = whitespace(i &+ 1)
            case 0x7D: return i &+ 1
            default: return Self.fail
            }
        }
    }

    /// Whether the key whose bytes start at `start` (`length` of them) is `key`.
    @inline(__always)
    public func key(_ start: Int, _ length: Int, is key: StaticString) -> Bool {
        length == key.utf8CodeUnitCount && memcmp(p + start, key.utf8Start, length) == 0
    }

    // MARK: - Values

    /// Validates the value at `position` (inside `depth` containers) and returns the position after it.
    public func skipValue(_ position: Int, depth: Int) -> Int {
        switch byte(position) {
        case 0x22:
            var escaped = false
            return string(position, &escaped)
        // Skipping compares no key, so an escaped one is fine here (Fuzz/ondemand found `"\"tra"` rejected).
        case 0x7B: return members(position, depth: depth, escapedKeys: true) { _, _, _ in Self.skip }
        case 0x5B: return elements(position, depth: depth) { _, _ in Self.skip }
        case 0x2D, 0x30...0x39:
            var integer: Int64?
            return number(position, &integer)
        case 0x74: return literal(position, "true")
        case 0x66: return literal(position, "false")
        case 0x6E: return literal(position, "null")
        default: return Self.fail
        }
    }

    /// The string at `position` decoded (nil, with the value skipped, when it is not a string).
    public func string(_ position: Int, depth: Int) -> (value: String?, end: Int) {
        guard byte(position) == 0x22 else { return (nil, skipValue(position, depth: depth)) }
        var escaped = false
        let end = string(position, &escaped)
        guard end >= 0 else { return (nil, Self.fail) }
        let raw = UnsafeBufferPointer(start: p + (position &+ 1), count: end &- position &- 2)
        if !escaped { return (String(decoding: raw, as: UTF8.self), end) }
        // Decoding only shrinks: every escape is longer than the UTF-8 it stands for.
        let value = String(unsafeUninitializedCapacity: max(raw.count, 1)) { out in
            JSONStringDecoder.unescape(raw, into: out.baseAddress!)
        }
        return (value, end)
    }

    /// The bytes from `start` to `end` as they are in the text (a number's literal, for fields read as text).
    public func text(from start: Int, to end: Int) -> String {
        guard start >= 0, start <= end, end <= count else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p + start, count: end &- start), as: UTF8.self)
    }

    /// Calls `body` with the decoded UTF-8 of the string at `position` (in scratch memory that lives for the call)
    /// and returns the string's end; ``fail`` when it is not a string or is malformed. For JSON inside a string
    /// (`DANMU_MSG` `info[0][15].extra`): read it in place, with no `String` and no array in between.
    public func withStringBytes(_ position: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Int {
        guard byte(position) == 0x22 else { return Self.fail }
        var escaped = false
        let end = string(position, &escaped)
        guard end >= 0 else { return Self.fail }
        let raw = UnsafeBufferPointer(start: p + (position &+ 1), count: end &- position &- 2)
        if !escaped { return body(UnsafeRawBufferPointer(raw)) ? end : Self.fail }
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(raw.count, 1)) { scratch in
            let n = JSONStringDecoder.unescape(raw, into: scratch.baseAddress!)
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<n]))
        }
        return ok ? end : Self.fail
    }

    /// ``JSONNode/int64Lenient`` on demand: an integer literal within Int64, or an unescaped string holding a
    /// strict decimal (`"123"`); nil (value skipped) for other values. Gives up (``fail``) where the strict path
    /// would have to compute (a fraction or exponent, an integer beyond Int64, an escaped string).
    public func int64Lenient(_ position: Int, depth: Int) -> (value: Int64?, end: Int) {
        switch byte(position) {
        case 0x2D, 0x30...0x39:
            var integer: Int64?
            let end = number(position, &integer)
            guard end >= 0, let integer else { return (nil, Self.fail) }
            return (integer, end)
        case 0x22:
            var escaped = false
            let end = string(position, &escaped)
            guard end >= 0, !escaped else { return (nil, Self.fail) }
            return (Self.decimal(p + (position &+ 1), count: end &- position &- 2), end)
        default:
            return (nil, skipValue(position, depth: depth))
        }
    }

    /// Strict `-?[0-9]+` to Int64 with overflow check (``JSONNode``'s rule for ids sent as strings).
    static func decimal(_ text: UnsafePointer<UInt8>, count: Int) -> Int64? {
        var i = 0
        let negative = count > 0 && text[0] == 0x2D
        if negative { i = 1 }
        guard i < count else { return nil }
        var value: Int64 = 0
        while i < count {
            let d = text[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = s
            i &+= 1
        }
        return value
    }

    // MARK: - Tokens (the strict parser's rules, returning positions instead of throwing)

    @inline(__always)
    func whitespace(_ start: Int) -> Int {
        var i = start
        while i < count {
            let b = p[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return i }
            i &+= 1
        }
        return i
    }

    private func literal(_ start: Int, _ text: StaticString) -> Int {
        let n = text.utf8CodeUnitCount
        guard start &+ n <= count, memcmp(p + start, text.utf8Start, n) == 0 else { return Self.fail }
        return start &+ n
    }

    /// RFC 8259 §6 number at `start`; `integer` is its value when it is an integer literal within Int64.
    @inline(__always)
    private func number(_ start: Int, _ integer: inout Int64?) -> Int {
        let scan = JSONNumber.scan(p, from: start, end: count)
        guard scan.failure == nil else { return Self.fail }
        if let value = scan.integer { integer = value }
        return scan.end
    }

    /// The string whose opening quote is at `start`, validated; the position after its closing quote.
    @inline(__always)
    func string(_ start: Int, _ escaped: inout Bool) -> Int {
        var i = start &+ 1
        while true {
            while i &+ 8 <= count {
                let mask = JSONParser.specialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                if mask != 0 {
                    i &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < count else { return Self.fail }
            let b = p[i]
            if b == 0x22 { return i &+ 1 }
            if b == 0x5C {
                escaped = true
                i = escape(i)
            } else if b < 0x20 {
                return Self.fail
            } else if b < 0x80 {
                i &+= 1
            } else {
                i = utf8Sequence(i)
            }
            guard i >= 0 else { return Self.fail }
        }
    }

    private func escape(_ start: Int) -> Int {
        guard start &+ 1 < count else { return Self.fail }
        switch p[start &+ 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: return start &+ 2
        case 0x75:
            guard let unit = hex4(start &+ 2) else { return Self.fail }
            if unit & 0xFC00 == 0xD800 {
                guard start &+ 7 < count, p[start &+ 6] == 0x5C, p[start &+ 7] == 0x75, let low = hex4(start &+ 8),
                    low & 0xFC00 == 0xDC00
                else { return Self.fail }
                return start &+ 12
            }
            return unit & 0xFC00 == 0xDC00 ? Self.fail : start &+ 6
        default: return Self.fail
        }
    }

    private func hex4(_ start: Int) -> UInt32? {
        guard start &+ 4 <= count else { return nil }
        var value: UInt32 = 0
        for k in 0..<4 {
            guard let digit = JSONParser.hexValue(p[start &+ k]) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// One multi-byte UTF-8 sequence (Unicode Table 3-7), checked by the strict parser's own function.
    @inline(__always)
    private func utf8Sequence(_ start: Int) -> Int {
        JSONParser.utf8SequenceEnd(p, start, end: count) ?? Self.fail
    }
}
