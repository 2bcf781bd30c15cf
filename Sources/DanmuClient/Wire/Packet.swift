/// Encoding of whole packets (header + body) — what clients and the simulator put on the wire.
public enum Packet {
    /// Encodes one packet. `length` is computed; header length is always 16.
    public static func encode(_ operation: Operation, protover: UInt16 = 1, sequence: UInt32 = 1, body: [UInt8])
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(PacketHeader.size + body.count)
        let header = PacketHeader(
            length: UInt32(truncatingIfNeeded: PacketHeader.size + body.count), headerLength: 16,
            protover: protover, operation: operation, sequence: sequence)
        header.write(into: &out)
        out.append(contentsOf: body)
        return out
    }

    /// Appends one packet to `out` (the simulator builds batches this way without temporaries).
    public static func append(
        _ operation: Operation, protover: UInt16, sequence: UInt32, body: some Collection<UInt8>,
        to out: inout [UInt8]
    ) {
        appendHeader(operation, protover: protover, sequence: sequence, bodyCount: body.count, to: &out)
        out.append(contentsOf: body)
    }

    /// Appends the header of a packet whose `bodyCount` body bytes the caller appends next.
    public static func appendHeader(
        _ operation: Operation, protover: UInt16, sequence: UInt32, bodyCount: Int,
        to out: inout [UInt8]
    ) {
        PacketHeader(
            length: UInt32(truncatingIfNeeded: PacketHeader.size + bodyCount), headerLength: 16,
            protover: protover, operation: operation, sequence: sequence
        ).write(into: &out)
    }

    /// Starts a packet whose body length is not known yet (the body is written straight into `out`); returns
    /// the offset to pass to `finish(startingAt:in:)`.
    public static func begin(_ operation: Operation, protover: UInt16, sequence: UInt32, in out: inout [UInt8])
        -> Int
    {
        let start = out.count
        appendHeader(operation, protover: protover, sequence: sequence, bodyCount: 0, to: &out)
        return start
    }

    /// Writes the final length into a packet started with `begin`.
    public static func finish(startingAt start: Int, in out: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: out.count - start)
        out[start] = UInt8(truncatingIfNeeded: length >> 24)
        out[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// The op 7 AUTH packet (ver 1, seq 1) carrying `body` as JSON.
    public static func auth(_ body: AuthBody) -> [UInt8] {
        encode(.auth, protover: 1, sequence: 1, body: body.jsonBytes())
    }

    /// The op 2 heartbeat (ver 1, seq 1) with an EMPTY body.
    ///
    /// Empty on purpose: the server echoes the heartbeat body after the op 3 reply but does not count it
    /// in the declared length (docs/protocol.md §8), which on a TCP stream would put garbage between packets.
    /// Browsers send `[object Object]`; pass it via `encode` only to reproduce that.
    public static func heartbeat() -> [UInt8] {
        encode(.heartbeat, protover: 1, sequence: 1, body: [])
    }

    /// The op 3 heartbeat reply a server sends: u32 big-endian popularity, plus an optional echo that is
    /// written *after* the packet and not counted in its length (as the real server does).
    public static func heartbeatReply(popularity: UInt32, echo: [UInt8] = [], sequence: UInt32 = 0) -> [UInt8] {
        var body: [UInt8] = []
        PacketHeader.append32(popularity, to: &body)
        var out = encode(.heartbeatReply, protover: 1, sequence: sequence, body: body)
        out.append(contentsOf: echo)
        return out
    }

    /// The op 8 auth reply a server sends: `{"code":<code>}`.
    public static func authReply(code: Int = 0, sequence: UInt32 = 1) -> [UInt8] {
        encode(
            .authReply, protover: 1, sequence: sequence,
            body: Array("{\"code\":\(code)}".utf8))
    }
}
