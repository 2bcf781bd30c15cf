/// One outer packet as received: its header and its body (the bytes after the header, `length − 16` of them).
/// For op 3 the echo bytes outside the declared length are *not* part of the body.
public struct Frame: Sendable, Equatable {
    public var header: PacketHeader
    public var body: [UInt8]
    /// For an AUTH_REPLY (op 8): its `code`, parsed once when the frame was cut (nil: none, or no integer code).
    public var authReplyCode: Int?

    public init(header: PacketHeader, body: [UInt8]) {
        self.header = header
        self.body = body
        if header.operation == .authReply { authReplyCode = AuthReply.code(body) }
    }

    /// Total bytes this frame occupied on the wire (header + body).
    public var wireLength: Int { PacketHeader.size + body.count }
}
