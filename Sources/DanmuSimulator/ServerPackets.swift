/// The packets the simulator writes, byte-exact with the captures in Fixtures/captures:
/// op 8 `{"code":0}` (ver 1, seq 1), op 3 (ver 1, seq 0, u32 BE popularity, optional echo outside the declared
/// length), op 5 (ver 0 single message, or ver 2/3 batch with seq 0).
///
/// The simulator writes headers itself instead of calling `Packet.encode` because it fills one reused buffer per
/// batch (header reserved first, length patched after the body) — no intermediate arrays on the hot path.
enum ServerPackets {
    static let headerSize = 16

    enum Operation {
        static let heartbeat: UInt32 = 2
        static let heartbeatReply: UInt32 = 3
        static let message: UInt32 = 5
        static let auth: UInt32 = 7
        static let authReply: UInt32 = 8
    }

    /// Appends a 16-byte big-endian header.
    static func appendHeader(length: UInt32, protover: UInt16, operation: UInt32, sequence: UInt32,
                             to out: inout [UInt8]) {
        appendU32(length, to: &out)
        out.append(0)
        out.append(UInt8(headerSize))
        out.append(UInt8(truncatingIfNeeded: protover >> 8))
        out.append(UInt8(truncatingIfNeeded: protover))
        appendU32(operation, to: &out)
        appendU32(sequence, to: &out)
    }

    /// Appends a header + body packet.
    static func appendPacket(operation: UInt32, protover: UInt16, sequence: UInt32, body: [UInt8],
                             to out: inout [UInt8]) {
        appendHeader(length: UInt32(headerSize + body.count), protover: protover, operation: operation,
                     sequence: sequence, to: &out)
        out.append(contentsOf: body)
    }

    /// Starts a packet whose length is not known yet; returns the offset to pass to `finishPacket`.
    static func beginPacket(protover: UInt16, operation: UInt32, sequence: UInt32, in out: inout [UInt8]) -> Int {
        let start = out.count
        appendHeader(length: 0, protover: protover, operation: operation, sequence: sequence, to: &out)
        return start
    }

    /// Writes the final length into a packet started with `beginPacket`.
    static func finishPacket(startingAt start: Int, in out: inout [UInt8]) {
        let length = UInt32(out.count - start)
        out[start] = UInt8(truncatingIfNeeded: length >> 24)
        out[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// op 8 AUTH_REPLY `{"code":0}`, ver 1, seq 1 (as captured in 2021 and 2023).
    static let authReply: [UInt8] = {
        var out: [UInt8] = []
        appendPacket(operation: Operation.authReply, protover: 1, sequence: 1, body: Array(#"{"code":0}"#.utf8),
                     to: &out)
        return out
    }()

    /// op 3 HEARTBEAT_REPLY: ver 1, seq 0, declared length 20, body u32 BE popularity; `echo` is appended
    /// *outside* the declared length, as the live server does with the client's heartbeat body.
    static func heartbeatReply(popularity: UInt32, echo: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + echo.count)
        appendHeader(length: 20, protover: 1, operation: Operation.heartbeatReply, sequence: 0, to: &out)
        appendU32(popularity, to: &out)
        out.append(contentsOf: echo)
        return out
    }

    /// A 16-byte header that no parser may accept: header length 0x5A5A, ver 0x5A5A, op 5, length 0x20 (so a
    /// sloppy parser that ignores the header length would go on reading the 16 filler bytes after it).
    static let garbageHeader: [UInt8] = [
        0x00, 0x00, 0x00, 0x20, 0x5A, 0x5A, 0x5A, 0x5A, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    ] + [UInt8](repeating: 0x5A, count: 16)

    /// A well-formed header declaring a 4 GiB - 1 packet (absurd length), followed by a few body bytes.
    static let absurdLength: [UInt8] = {
        var out: [UInt8] = []
        appendHeader(length: 0xFFFF_FFFF, protover: 0, operation: Operation.message, sequence: 0, to: &out)
        out.append(contentsOf: Array(#"{"cmd":"DANMU_MSG","info":[]}"#.utf8))
        return out
    }()

    static func appendU32(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }
}
