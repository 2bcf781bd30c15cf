/// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit hash. Used by
/// `AnonymizeStage` so that the same uid maps to the same pseudonym under one key and to an unrelated one under
/// another. Checked against the paper's Appendix A vector and the reference implementation's `vectors.h`.
struct SipHash24 {
    private var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

    /// `key` must be 16 bytes: k0 = bytes 0–7, k1 = bytes 8–15, little-endian (as the reference code reads it).
    init(key: [UInt8]) {
        precondition(key.count == 16, "SipHash-2-4 takes a 16-byte key")
        let k0 = Self.littleEndian(key, 0)
        let k1 = Self.littleEndian(key, 8)
        v0 = k0 ^ 0x736f_6d65_7073_6575
        v1 = k1 ^ 0x646f_7261_6e64_6f6d
        v2 = k0 ^ 0x6c79_6765_6e65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    /// The 64-bit tag of `message` (the reference's output bytes, read little-endian).
    func hash(_ message: some Collection<UInt8>) -> UInt64 {
        var state = self
        var block: UInt64 = 0
        var shift: UInt64 = 0
        for byte in message {
            block |= UInt64(byte) << shift
            shift += 8
            if shift == 64 {
                state.compress(block)
                block = 0
                shift = 0
            }
        }
        // The last block: the remaining bytes, then the message length mod 256 in the top byte.
        block |= UInt64(truncatingIfNeeded: message.count) << 56
        state.compress(block)
        state.v2 ^= 0xff
        for _ in 0..<4 { state.round() }
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
    }

    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        round()
        v0 ^= m
    }

    @inline(__always)
    private mutating func round() {
        v0 &+= v1
        v1 = rotl(v1, 13)
        v1 ^= v0
        v0 = rotl(v0, 32)
        v2 &+= v3
        v3 = rotl(v3, 16)
        v3 ^= v2
        v0 &+= v3
        v3 = rotl(v3, 21)
        v3 ^= v0
        v2 &+= v1
        v1 = rotl(v1, 17)
        v1 ^= v2
        v2 = rotl(v2, 32)
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

    private static func littleEndian(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
