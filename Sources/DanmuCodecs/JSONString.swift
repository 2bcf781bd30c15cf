import Glibc

/// Lazy string decoding for ``JSONNode``: the parser has already validated escapes and UTF-8, so decoding here
/// cannot fail. A string without escapes is copied straight from the source bytes.
extension JSONNode {
    /// The decoded value of a string; `nil` for other kinds.
    public var string: String? {
        guard tag == JSONTag.string else { return nil }
        let start = offset &+ 1
        let length = Int(truncatingIfNeeded: wordB)
        let escaped = flag
        return storage.bytes.withUnsafeBufferPointer { bytes in
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<start &+ length])
            if !escaped { return String(decoding: raw, as: UTF8.self) }
            // Decoding only shrinks: every escape is longer than the UTF-8 it stands for.
            return String(unsafeUninitializedCapacity: max(length, 1)) { out in
                JSONStringDecoder.unescape(raw, into: out.baseAddress!)
            }
        }
    }

    /// The decoded UTF-8 of a string (escapes resolved) without creating a String; `nil` for other kinds.
    public var stringBytes: [UInt8]? {
        guard tag == JSONTag.string else { return nil }
        let start = offset &+ 1
        let length = Int(truncatingIfNeeded: wordB)
        if !flag { return Array(storage.bytes[start..<start &+ length]) }
        return storage.bytes.withUnsafeBufferPointer { bytes in
            [UInt8](unsafeUninitializedCapacity: max(length, 1)) { out, initialized in
                initialized = JSONStringDecoder.unescape(
                    UnsafeBufferPointer(rebasing: bytes[start..<start &+ length]), into: out.baseAddress!)
            }
        }
    }

    /// Parses the content of a string value as a JSON document of its own; `nil` if this is not a string.
    ///
    /// Bilibili nests JSON inside strings (`DANMU_MSG` `info[0][15].extra`, `DM_INTERACTION` `data`); this skips
    /// the intermediate String. Error offsets refer to the decoded content.
    public func parseStringAsJSON(maxDepth: Int = 64) throws(JSONError) -> JSONDocument? {
        guard let bytes = stringBytes else { return nil }
        return try JSONDocument(parsing: bytes, maxDepth: maxDepth)
    }

    /// Whether this is a string whose decoded UTF-8 equals `other` (no String is created for unescaped strings).
    public func stringEquals(utf8 other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard tag == JSONTag.string else { return false }
        let start = offset &+ 1
        let length = Int(truncatingIfNeeded: wordB)
        let escaped = flag
        if !escaped && length != other.count { return false }
        return storage.bytes.withUnsafeBufferPointer { bytes in
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<start &+ length])
            if !escaped {
                return length == 0 || memcmp(raw.baseAddress!, other.baseAddress!, length) == 0
            }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, 1)) { scratch in
                let n = JSONStringDecoder.unescape(raw, into: scratch.baseAddress!)
                return n == other.count && (n == 0 || memcmp(scratch.baseAddress!, other.baseAddress!, n) == 0)
            }
        }
    }

    /// Whether this is a string equal to `other`.
    public func stringEquals(_ other: String) -> Bool {
        var other = other
        return other.withUTF8 { stringEquals(utf8: $0) }
    }
}

enum JSONStringDecoder {
    /// Decodes the validated string body `raw` (escapes resolved) into `out`; returns the number of bytes written.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var i = 0
        var o = 0
        let n = raw.count
        let base = raw.baseAddress!
        while i < n {
            // Copy the run up to the next backslash eight bytes at a time, storing each word before looking in it
            // (issue 11: `extra`'s runs between `\"` are short, and a memcpy call per run was a third of the
            // cost). The store is in bounds: o ≤ i (decoding only shrinks) and i + 8 ≤ n ≤ the output's size.
            while i &+ 8 <= n {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(out + o).storeBytes(of: word, as: UInt64.self)
                let x = word ^ 0x5C5C_5C5C_5C5C_5C5C
                let zero = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                if zero != 0 {
                    let k = zero.trailingZeroBitCount &>> 3
                    i &+= k
                    o &+= k
                    break
                }
                i &+= 8
                o &+= 8
            }
            while i < n && base[i] != 0x5C {
                out[o] = base[i]
                i &+= 1
                o &+= 1
            }
            if i >= n { break }
            let e = raw[i &+ 1]
            i &+= 2
            switch e {
            case 0x62: out[o] = 0x08
            case 0x66: out[o] = 0x0C
            case 0x6E: out[o] = 0x0A
            case 0x72: out[o] = 0x0D
            case 0x74: out[o] = 0x09
            case 0x75:
                var scalar = hex4(raw, i)
                i &+= 4
                if scalar & 0xFC00 == 0xD800 {
                    // The parser guaranteed a `\uDC00`–`\uDFFF` follows.
                    let low = hex4(raw, i &+ 2)
                    i &+= 6
                    scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                }
                o = encodeUTF8(scalar, into: out, at: o)
                continue
            default: out[o] = e  // " \ /
            }
            o &+= 1
        }
        return o
    }

    @inline(__always)
    static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | (JSONParser.hexValue(raw[at &+ k]) ?? 0) }
        return v
    }

    /// Writes the UTF-8 of `scalar` at `out[at...]`; returns the offset after it.
    @inline(__always)
    static func encodeUTF8(_ scalar: UInt32, into out: UnsafeMutablePointer<UInt8>, at: Int) -> Int {
        switch scalar {
        case 0..<0x80:
            out[at] = UInt8(scalar)
            return at &+ 1
        case 0x80..<0x800:
            out[at] = UInt8(0xC0 | scalar >> 6)
            out[at &+ 1] = UInt8(0x80 | scalar & 0x3F)
            return at &+ 2
        case 0x800..<0x10000:
            out[at] = UInt8(0xE0 | scalar >> 12)
            out[at &+ 1] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            out[at &+ 2] = UInt8(0x80 | scalar & 0x3F)
            return at &+ 3
        default:
            out[at] = UInt8(0xF0 | scalar >> 18)
            out[at &+ 1] = UInt8(0x80 | (scalar >> 12) & 0x3F)
            out[at &+ 2] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            out[at &+ 3] = UInt8(0x80 | scalar & 0x3F)
            return at &+ 4
        }
    }
}
