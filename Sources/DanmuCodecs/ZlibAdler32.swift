/// Adler-32 (RFC 1950 §8.2), the checksum of zlib streams.
public struct ZlibAdler32: Sendable, Equatable {
    /// The checksum of everything passed to `update` so far (1 for no bytes).
    public private(set) var value: UInt32 = 1

    public init() {}

    /// Largest n such that 255·n·(n+1)/2 + (n+1)·(65520) < 2^32: sums can be reduced modulo 65521 this rarely.
    private static let blockSize = 5552
    private static let modulus: UInt32 = 65521

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var a = UInt64(value & 0xFFFF)
        var b = UInt64(value >> 16)
        var remaining = bytes.count
        var pointer = base
        while remaining > 0 {
            let n = min(remaining, Self.blockSize)
            let groups = n &>> 3
            // Eight bytes per step with no chain from byte to byte (issue 11: the byte-serial loop was 5 % of a
            // zlib flood). Over a block of n bytes x_j, b grows by n·a + Σ (n − j)·x_j. With j = 8t + l and
            // G groups: n − j = 8·(G − t − 1) + (8 − l), so b += n·a + 8·(T − S) + W, where S = Σ g_t (g_t the
            // group's byte sum), T = Σ_t (running S after group t) = Σ (G − t)·g_t, W = Σ weighted group sums;
            // n here is the 8·G bytes of the groups, the tail follows byte by byte.
            var s: UInt64 = 0
            var t: UInt64 = 0
            var w: UInt64 = 0
            var index = 0
            for _ in 0..<groups {
                let v = UInt64(littleEndian: UnsafeRawPointer(pointer + index).loadUnaligned(as: UInt64.self))
                index &+= 8
                // Bytes 0, 2, 4, 6 and 1, 3, 5, 7 in 16-bit lanes; a multiply sums lanes into the top one
                // (every lane product stays below 2^16, so no carry crosses a lane).
                let even = v & 0x00FF_00FF_00FF_00FF
                let odd = (v &>> 8) & 0x00FF_00FF_00FF_00FF
                s &+= ((even &+ odd) &* 0x0001_0001_0001_0001) &>> 48
                t &+= s
                // Weights 8 − l for byte l: 8, 6, 4, 2 on the even lanes and 7, 5, 3, 1 on the odd ones, in
                // reverse lane order so the products of matching lanes meet in the top lane.
                w &+= ((even &* 0x0008_0006_0004_0002) &+ (odd &* 0x0007_0005_0003_0001)) &>> 48
            }
            b &+= UInt64(groups &<< 3) &* a &+ 8 &* (t &- s) &+ w
            a &+= s
            while index < n {
                a &+= UInt64(pointer[index])
                b &+= a
                index &+= 1
            }
            a %= UInt64(Self.modulus)
            b %= UInt64(Self.modulus)
            pointer += n
            remaining -= n
        }
        value = UInt32(b) << 16 | UInt32(a)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The Adler-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var adler = ZlibAdler32()
        adler.update(bytes)
        return adler.value
    }
}
