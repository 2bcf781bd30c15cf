// The 64-bit little-endian bit buffer of the inflater.
//
// Refill loads 8 unaligned bytes at once while at least 8 input bytes remain (the libdeflate trick: the buffer
// then holds 56...63 valid bits, enough for one whole literal/length + distance symbol with extra bits, 48 bits).
// Near the end of input it loads byte by byte and, past the end, shifts in zero bytes counted in `overrun`.
// Decoding never trusts bits read past the end: every unit (header, symbol, trailer) checks `isOverrun` before it
// commits anything, and a caller that runs out of input restores the copy of the reader it took at the unit start.

/// A bit reader over one contiguous input buffer (value type: copy it to take a snapshot).
struct InflateBitReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    /// Next input byte not yet loaded into `bits`.
    var pos: Int
    var bits: UInt64 = 0
    /// Number of valid bits in `bits` (low bits first).
    var bitCount: Int = 0
    /// Zero bytes loaded past the end of the input.
    var overrun: Int = 0

    /// Starts reading `input` at bit `startBit` (which must not exceed the input's size in bits).
    init(_ input: UnsafeRawBufferPointer, startBit: Int) {
        if let address = input.baseAddress, input.count > 0 {
            base = address.assumingMemoryBound(to: UInt8.self)
            count = input.count
        } else {
            base = InflateBitReader.emptyInput
            count = 0
        }
        pos = startBit >> 3
        if startBit & 7 != 0 {
            refill()
            consume(startBit & 7)
        }
    }

    // A valid pointer for empty inputs; never dereferenced because `count` is 0.
    nonisolated(unsafe) private static let emptyInput: UnsafePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return UnsafePointer(pointer)
    }()

    /// Bits consumed from the start of the input.
    @inline(__always)
    var consumedBits: Int { (pos &+ overrun) &* 8 &- bitCount }

    /// True when decoding has consumed bits that lie past the end of the input.
    @inline(__always)
    var isOverrun: Bool { overrun != 0 && consumedBits > count &* 8 }

    /// True while the next refill can take the unchecked 8-byte path.
    @inline(__always)
    var canRefillFast: Bool { pos &+ 8 <= count }

    /// Tops the buffer up to at least 56 valid bits.
    @inline(__always)
    mutating func refill() {
        if pos &+ 8 <= count {
            refillFast()
        } else {
            refillSlow()
        }
    }

    /// Precondition: `canRefillFast`.
    @inline(__always)
    mutating func refillFast() {
        let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
        bits |= UInt64(littleEndian: word) &<< UInt64(bitCount)
        pos &+= (63 &- bitCount) &>> 3
        bitCount |= 56
    }

    @inline(never)
    mutating func refillSlow() {
        while bitCount <= 56 {
            if pos < count {
                bits |= UInt64(base[pos]) &<< UInt64(bitCount)
                pos += 1
            } else {
                overrun += 1
            }
            bitCount += 8
        }
    }

    @inline(__always)
    mutating func consume(_ n: Int) {
        bits &>>= UInt64(n)
        bitCount &-= n
    }

    /// Reads `n` (≤ 32) bits after a refill that guaranteed them.
    @inline(__always)
    mutating func take(_ n: Int) -> UInt32 {
        let value = UInt32(truncatingIfNeeded: bits & ((1 &<< UInt64(n)) &- 1))
        consume(n)
        return value
    }

    /// Drops the bits up to the next byte boundary of the input.
    @inline(__always)
    mutating func alignToByte() {
        consume(bitCount & 7)
    }

    /// After `alignToByte()` and without overrun: forgets the buffered bits so `pos` is the exact next input byte.
    mutating func rewindToByteBoundary() {
        pos = consumedBits >> 3
        overrun = 0
        bits = 0
        bitCount = 0
    }
}
