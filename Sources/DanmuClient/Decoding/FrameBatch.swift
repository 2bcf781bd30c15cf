/// The complete packets of one read, handed from the IO thread to the room's queue in one buffer.
///
/// Issue 11: every frame body used to be copied into an array of its own when it was cut (one allocation and
/// one copy per packet, up to three more for a packet split across reads), and the batch was an array of those.
/// Now the packets a read completes are copied once, back to back, into one array, which is what has to outlive
/// the reactor's shared read buffer; the worker walks it in place. Heartbeat-echo bytes the decoder skipped are
/// not kept.
struct FrameBatch: Sendable {
    /// The packets back to back, each with its 16-byte header (`length` bytes each, as validated when cut).
    private(set) var bytes: [UInt8] = []
    /// How many packets.
    private(set) var count = 0
    /// Capacity reserved with the first packet (so a read cuts into one allocation, not a growing array).
    private let capacityHint: Int

    init(capacityHint: Int = 0) { self.capacityHint = capacityHint }

    var isEmpty: Bool { count == 0 }

    /// Bytes on the wire of the packets (headers included).
    var wireLength: Int { bytes.count }

    /// Appends one whole packet (header and body) as the decoder cut it.
    mutating func append(packet: UnsafeRawBufferPointer) {
        if count == 0 { bytes.reserveCapacity(max(capacityHint, packet.count)) }
        bytes.append(contentsOf: packet)
        count &+= 1
    }

    /// Calls `body` with each packet's header and body, in order, in place. The headers were validated when the
    /// packets were cut, so each one parses and its length fits.
    func forEachPacket<E: Error>(_ body: (PacketHeader, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var thrown: E?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
                let header = PacketHeader(parsing: rest)!
                let length = Int(header.length)
                do throws(E) {
                    try body(header, UnsafeRawBufferPointer(rebasing: rest[PacketHeader.size..<length]))
                } catch {
                    thrown = error
                    return
                }
                offset &+= length
            }
        }
        if let thrown { throw thrown }
    }
}
