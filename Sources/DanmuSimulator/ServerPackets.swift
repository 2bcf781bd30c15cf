import DanmuClient

/// The fixed packets the simulator writes, byte-exact with the captures in Fixtures/captures: op 8 `{"code":0}`
/// (ver 1, seq 1), op 3 (ver 1, seq 0, u32 BE popularity, optional echo outside the declared length), and two
/// deliberately broken headers for the fault modes. Everything goes through DanmuClient's one packet writer
/// (`Packet`, `PacketHeader`): the client and its stand-in cannot disagree about the wire format.
enum ServerPackets {
    /// op 8 AUTH_REPLY `{"code":0}`, ver 1, seq 1 (as captured in 2021 and 2023).
    static let authReply: [UInt8] = {
        var out: [UInt8] = []
        Packet.append(.authReply, protover: 1, sequence: 1, body: Array(#"{"code":0}"#.utf8), to: &out)
        return out
    }()

    /// op 3 HEARTBEAT_REPLY: ver 1, seq 0, declared length 20, body u32 BE popularity; `echo` is appended
    /// *outside* the declared length, as the live server does with the client's heartbeat body.
    static func heartbeatReply(popularity: UInt32, echo: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + echo.count)
        Packet.appendHeader(.heartbeatReply, protover: 1, sequence: 0, bodyCount: 4, to: &out)
        PacketHeader.append32(popularity, to: &out)
        out.append(contentsOf: echo)
        return out
    }

    /// A 16-byte header that no parser may accept: header length 0x5A5A, ver 0x5A5A, op 5, length 0x20 (so a
    /// sloppy parser that ignores the header length would go on reading the 16 filler bytes after it).
    static let garbageHeader: [UInt8] =
        [
            0x00, 0x00, 0x00, 0x20, 0x5A, 0x5A, 0x5A, 0x5A, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
        ] + [UInt8](repeating: 0x5A, count: 16)

    /// A well-formed header declaring a 4 GiB - 1 packet (absurd length), followed by a few body bytes.
    static let absurdLength: [UInt8] = {
        var out: [UInt8] = []
        PacketHeader(length: 0xFFFF_FFFF, protover: 0, operation: .message, sequence: 0)
            .write(into: &out)
        out.append(contentsOf: Array(#"{"cmd":"DANMU_MSG","info":[]}"#.utf8))
        return out
    }()
}
