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
        var a = value & 0xFFFF
        var b = value >> 16
        var remaining = bytes.count
        var pointer = base
        while remaining > 0 {
            let n = min(remaining, Self.blockSize)
            var index = 0
            // Four bytes per step keeps the dependency chain short.
            while index &+ 4 <= n {
                a &+= UInt32(pointer[index]); b &+= a
                a &+= UInt32(pointer[index &+ 1]); b &+= a
                a &+= UInt32(pointer[index &+ 2]); b &+= a
                a &+= UInt32(pointer[index &+ 3]); b &+= a
                index &+= 4
            }
            while index < n {
                a &+= UInt32(pointer[index]); b &+= a
                index &+= 1
            }
            a %= Self.modulus
            b %= Self.modulus
            pointer += n
            remaining -= n
        }
        value = b << 16 | a
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
