/// LSB-first bit reader over a complete in-memory brotli stream, with a 64-bit accumulator.
///
/// Reads past the end of the input yield zero bits instead of trapping; `isOverrun` tells afterwards whether
/// any bit beyond the input was consumed, so that the decoder reports `.truncated`. This keeps the hot paths
/// free of per-bit bounds checks while no byte outside the input is ever loaded.
struct BrotliBitReader {
    /// Start of the input; never dereferenced past `count`.
    let base: UnsafeRawPointer
    /// Input length in bytes.
    let count: Int
    /// Index of the next byte to move into the accumulator; grows past `count` when zeros are fed.
    var next: Int = 0
    /// Pending bits, least significant first. Bits above `bitCount` are zero or the correct next input bits.
    var accumulator: UInt64 = 0
    /// Number of valid bits in `accumulator` (0...63).
    var bitCount: Int = 0

    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    /// Offset of the byte holding the next unread bit (for error messages).
    var byteOffset: Int { min(count, next - bitCount / 8) }

    /// True when more bits were consumed than the input holds.
    var isOverrun: Bool { (next - count) * 8 > bitCount }

    /// Tops the accumulator up to at least 56 bits.
    @inline(__always)
    mutating func refill() {
        if next &+ 8 <= count {
            // Whole 8-byte load: bytes beyond the ones counted are loaded again, identically, next time.
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: next, as: UInt64.self))
            accumulator |= word &<< UInt64(truncatingIfNeeded: bitCount)
            next &+= (63 &- bitCount) &>> 3
            bitCount |= 56
        } else {
            refillNearEnd()
        }
    }

    @inline(never)
    mutating func refillNearEnd() {
        while bitCount <= 56 {
            let byte: UInt64 = next < count ? UInt64(base.load(fromByteOffset: next, as: UInt8.self)) : 0
            accumulator |= byte &<< UInt64(truncatingIfNeeded: bitCount)
            next += 1
            bitCount += 8
        }
    }

    /// Reads `n` bits (0...32) as an unsigned number.
    @inline(__always)
    mutating func bits(_ n: Int) -> Int {
        if bitCount < n { refill() }
        let value = accumulator & ((1 &<< UInt64(truncatingIfNeeded: n)) &- 1)
        accumulator &>>= UInt64(truncatingIfNeeded: n)
        bitCount &-= n
        return Int(truncatingIfNeeded: value)
    }

    /// Reads one bit as a Bool.
    @inline(__always)
    mutating func flag() -> Bool { bits(1) != 0 }

    /// Skips to the next byte boundary; returns false when a skipped bit was set (RFC 7932 requires zeros).
    mutating func alignToByte() -> Bool {
        bits(bitCount & 7) == 0
    }

    /// After `alignToByte`, the offset of the next unread byte; the accumulator is emptied so that the caller
    /// can take bytes straight from the input and then `restart(at:)`.
    mutating func detachAtByteBoundary() -> Int {
        let offset = next - bitCount / 8
        accumulator = 0
        bitCount = 0
        next = offset
        return offset
    }

    /// Continues reading bits at byte `offset`.
    mutating func restart(at offset: Int) {
        next = offset
        accumulator = 0
        bitCount = 0
    }

    /// Decodes one symbol with a table built by `BrotliHuffman` (8-bit root, second-level tables).
    @inline(__always)
    mutating func decodeSymbol(_ table: UnsafePointer<UInt32>) -> Int {
        if bitCount < 15 { refill() }
        var entry = table[Int(truncatingIfNeeded: accumulator & 0xFF)]
        var length = Int(truncatingIfNeeded: entry & 0xFFFF)
        if length > BrotliHuffman.rootBits {
            // A link: drop the root bits, index the second-level table with the next (length - 8) bits.
            accumulator &>>= 8
            bitCount &-= 8
            let subBits = UInt64(truncatingIfNeeded: length &- BrotliHuffman.rootBits)
            let index =
                Int(truncatingIfNeeded: entry &>> 16)
                &+ Int(truncatingIfNeeded: accumulator & ((1 &<< subBits) &- 1))
            entry = table[index]
            length = Int(truncatingIfNeeded: entry & 0xFFFF)
        }
        accumulator &>>= UInt64(truncatingIfNeeded: length)
        bitCount &-= length
        return Int(truncatingIfNeeded: entry &>> 16)
    }
}
