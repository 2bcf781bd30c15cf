/// The 16-byte big-endian header in front of every packet, both directions (docs/protocol.md §4.1).
///
/// ```
/// offset 0  u32 length         header + body
/// offset 4  u16 headerLength   always 16
/// offset 6  u16 protover       0 JSON · 1 control · 2 zlib batch · 3 brotli batch
/// offset 8  u32 operation      see `Operation`
/// offset 12 u32 sequence       clients send 1; ignore on receive
/// ```
public struct PacketHeader: Equatable, Hashable, Sendable {
    /// Size of the header on the wire.
    public static let size = 16

    public var length: UInt32
    public var headerLength: UInt16
    public var protover: UInt16
    /// Typed, but any raw value survives: the server may send operations `Operation` does not name.
    public var operation: Operation
    public var sequence: UInt32

    public init(length: UInt32, headerLength: UInt16 = 16, protover: UInt16, operation: Operation, sequence: UInt32) {
        self.length = length
        self.headerLength = headerLength
        self.protover = protover
        self.operation = operation
        self.sequence = sequence
    }

    /// Reads a header from the first 16 bytes of `bytes` without validating it.
    /// Returns nil when fewer than 16 bytes are available.
    public init?(parsing bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= PacketHeader.size else { return nil }
        length = PacketHeader.u32(bytes, 0)
        headerLength = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        protover = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
        operation = Operation(PacketHeader.u32(bytes, 8))
        sequence = PacketHeader.u32(bytes, 12)
    }

    /// Reads a header from the first 16 bytes of an array (nil when shorter).
    public init?(parsing bytes: [UInt8]) {
        guard let header = bytes.withUnsafeBytes({ PacketHeader(parsing: $0) }) else { return nil }
        self = header
    }

    /// The one validation of a received header, for the stream and for packets inside a batch: the length covers
    /// the header and stays within `maxLength` (nil: no cap, a batch is bounded by its own size), and the header
    /// length is 16.
    public func validate(maxLength: Int?) throws(ProtocolError) {
        if length < UInt32(PacketHeader.size) { throw .lengthTooSmall(length) }
        if headerLength != UInt16(PacketHeader.size) { throw .badHeaderLength(headerLength) }
        if let maxLength, Int(length) > maxLength { throw .lengthOverCap(length, cap: maxLength) }
    }

    /// Appends the 16 big-endian header bytes to `out`.
    public func write(into out: inout [UInt8]) {
        PacketHeader.append32(length, to: &out)
        out.append(UInt8(truncatingIfNeeded: headerLength >> 8))
        out.append(UInt8(truncatingIfNeeded: headerLength))
        out.append(UInt8(truncatingIfNeeded: protover >> 8))
        out.append(UInt8(truncatingIfNeeded: protover))
        PacketHeader.append32(operation.rawValue, to: &out)
        PacketHeader.append32(sequence, to: &out)
    }

    /// The 16 header bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(PacketHeader.size)
        write(into: &out)
        return out
    }

    /// Whether these 16 bytes could start a real packet: used to find the next packet after the
    /// heartbeat-reply echo (docs/protocol.md §8). Length ≥ 16 and ≤ `maxLength`, header length 16,
    /// protover ≤ 3, and an operation from the server's published enum.
    public func isPlausible(maxLength: Int) -> Bool {
        length >= 16 && Int(length) <= maxLength && headerLength == 16 && protover <= 3 && operation.isPlausible
    }

    @inline(__always)
    static func u32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    @inline(__always)
    public static func append32(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }
}
