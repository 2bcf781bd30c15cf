/// SHA-1 (FIPS 180-4 §6.1). Used for the WebSocket accept key (RFC 6455 §4.2.2), where it is a fixed transform,
/// not a security primitive: do not use it for signatures or integrity against an adversary.
///
/// `SHA1.digest(bytes)` for one piece; `var h = SHA1(); h.update(...); h.finalize()` for input that arrives in parts.
public struct SHA1: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
    )
    /// The unprocessed tail (< 64 bytes) of the input so far.
    private var block: [UInt8] = []
    /// Blocks already compressed; with `block.count` this is the message length.
    private var compressedBlocks: UInt64 = 0

    public init() { block.reserveCapacity(64) }

    /// The 20-byte digest of `bytes`.
    public static func digest(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            block.append(byte)
            if block.count == 64 {
                compress()
                block.removeAll(keepingCapacity: true)
            }
        }
    }

    /// The digest of everything passed to `update`; the value is spent afterwards (a new `SHA1()` starts over).
    public mutating func finalize() -> [UInt8] {
        let bitLength = (compressedBlocks &* 64 &+ UInt64(block.count)) &* 8
        block.append(0x80)
        if block.count > 56 {
            while block.count < 64 { block.append(0) }
            compress()
            block.removeAll(keepingCapacity: true)
        }
        while block.count < 56 { block.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            block.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        compress()
        block.removeAll(keepingCapacity: true)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for word in [state.0, state.1, state.2, state.3, state.4] {
            out.append(UInt8(truncatingIfNeeded: word >> 24))
            out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8))
            out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    /// One 64-byte block (FIPS 180-4 §6.1.2), the message schedule kept in a 16-word ring.
    private mutating func compress() {
        compressedBlocks &+= 1
        var w = (
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
            UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0)
        )
        var (a, b, c, d, e) = state
        block.withUnsafeBufferPointer { bytes in
            withUnsafeMutableBytes(of: &w) { raw in
                let words = raw.bindMemory(to: UInt32.self)
                for i in 0..<16 {
                    words[i] =
                        UInt32(bytes[4 * i]) << 24 | UInt32(bytes[4 * i + 1]) << 16 | UInt32(bytes[4 * i + 2]) << 8
                        | UInt32(bytes[4 * i + 3])
                }
                for t in 0..<80 {
                    let s = t & 15
                    if t >= 16 {
                        let x = words[(s + 13) & 15] ^ words[(s + 8) & 15] ^ words[(s + 2) & 15] ^ words[s]
                        words[s] = x << 1 | x >> 31
                    }
                    let f: UInt32
                    let k: UInt32
                    switch t {
                    case 0..<20:
                        f = (b & c) | (~b & d)
                        k = 0x5A82_7999
                    case 20..<40:
                        f = b ^ c ^ d
                        k = 0x6ED9_EBA1
                    case 40..<60:
                        f = (b & c) | (b & d) | (c & d)
                        k = 0x8F1B_BCDC
                    default:
                        f = b ^ c ^ d
                        k = 0xCA62_C1D6
                    }
                    let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ words[s]
                    e = d
                    d = c
                    c = b << 30 | b >> 2
                    b = a
                    a = temp
                }
            }
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }
}
