import DanmuCodecs

/// Worker-side decoding of one received frame into typed events.
///
/// - op 3 → `.popularity` (first 4 body bytes, big-endian); op 8 → `.authReply(code)`.
/// - op 5 ver 0 (and 1) → one JSON message (an empty body is nothing, not a malformed message); ver 2 → zlib
///   batch; ver 3 → brotli batch. A batch is a run of complete inner packets, each with its own 16-byte header;
///   inner compressed packets are recursed into up to `maxNestingDepth` (real traffic nests once).
/// - One received frame has one decompression budget, `maxDecompressedBytes`, shared by every zlib/brotli call
///   it causes, nested or side by side: each call may produce only what the earlier ones left. A per-call cap let
///   a frame nested 4 levels deep expand to 4× the cap, and a batch of n compressed siblings to n× (issue 17).
/// - Unknown ops and unknown protovers on op 5 are skipped and counted, never fatal.
///
/// Error policy (chosen, documented): a message whose JSON is malformed is **skipped and counted**
/// (`statistics.malformedMessages`, `lastMalformed`) and the rest of its batch is still delivered — a
/// reconnect would not repair the server's data. Damage that makes the rest of the frame unreadable
/// (corrupt zlib/brotli, output over the frame's budget, a truncated inner packet, nesting too deep, an op 3 body
/// shorter than 4 bytes, an unparsable op 8) throws `ProtocolError`; the caller closes that connection only.
public struct MessageDecoder: Sendable {
    /// Counters since creation.
    public struct Statistics: Sendable, Equatable {
        public var frames = 0
        /// JSON messages parsed (non-empty ver 0 bodies, outer or inner).
        public var messages = 0
        /// Messages skipped because their JSON was malformed.
        public var malformedMessages = 0
        /// Outer or inner packets with an operation we do not handle.
        public var unknownOperations = 0
        /// op 5 packets with a protover other than 0–3.
        public var unknownProtovers = 0
        /// Bytes produced by zlib/brotli (at most `maxDecompressedBytes` per frame).
        public var decompressedBytes = 0
        public var lastMalformed: ProtocolError?
        public init() {}
    }

    public var maxNestingDepth: Int
    /// Cap on the total output of all decompressions of one received frame (a guard against zlib/brotli bombs,
    /// nested ones included).
    public var maxDecompressedBytes: Int
    public private(set) var statistics = Statistics()

    public init(maxNestingDepth: Int = 4, maxDecompressedBytes: Int = 16 << 20) {
        self.maxNestingDepth = maxNestingDepth
        self.maxDecompressedBytes = maxDecompressedBytes
    }

    /// Decodes one outer frame, appending its events in order.
    public mutating func decode(_ frame: Frame, into events: inout [DanmuEvent]) throws(ProtocolError) {
        if frame.header.operation == .authReply {
            // Parsed once, when the frame was cut: the session has already acted on it.
            statistics.frames += 1
            appendAuthReply(frame.authReplyCode, into: &events)
            return
        }
        var thrown: ProtocolError?
        frame.body.withUnsafeBytes { body in
            do throws(ProtocolError) { try decode(header: frame.header, body: body, into: &events) } catch {
                thrown = error
            }
        }
        if let thrown { throw thrown }
    }

    /// Decodes the packets of one read in place, in order; stops at the first that throws (the events before it
    /// stay appended).
    mutating func decode(_ batch: FrameBatch, into events: inout [DanmuEvent]) throws(ProtocolError) {
        try batch.forEachPacket { (header, body) throws(ProtocolError) in
            try decode(header: header, body: body, into: &events)
        }
    }

    /// One outer packet: its header and its body, in place.
    mutating func decode(header: PacketHeader, body: UnsafeRawBufferPointer, into events: inout [DanmuEvent])
        throws(ProtocolError)
    {
        statistics.frames += 1
        if header.operation == .authReply {
            appendAuthReply(AuthReply.code(body), into: &events)
            return
        }
        var budget = maxDecompressedBytes
        try decodePacket(
            operation: header.operation, protover: header.protover, body: body, depth: 0, budget: &budget,
            into: &events)
    }

    /// An outer AUTH_REPLY: its event, or a malformed count when it has no integer code.
    private mutating func appendAuthReply(_ code: Int?, into events: inout [DanmuEvent]) {
        if let code {
            events.append(.authReply(code: code))
        } else {
            statistics.malformedMessages += 1
            statistics.lastMalformed = .json("auth reply without an integer code")
        }
    }

    /// Convenience: the events of one frame.
    public mutating func decode(_ frame: Frame) throws(ProtocolError) -> [DanmuEvent] {
        var events: [DanmuEvent] = []
        try decode(frame, into: &events)
        return events
    }

    /// `budget`: what the frame may still decompress; every decompression below takes its output from it.
    private mutating func decodePacket(
        operation: Operation, protover: UInt16, body: UnsafeRawBufferPointer, depth: Int,
        budget: inout Int, into events: inout [DanmuEvent]
    ) throws(ProtocolError) {
        switch operation {
        case .heartbeatReply:
            guard body.count >= 4 else { throw .shortBody(operation: operation, count: body.count) }
            events.append(.popularity(PacketHeader.u32(body, 0)))
        case .authReply:
            // Inside a batch (servers never do this): the same one parse.
            guard let code = AuthReply.code(body) else { throw .json("auth reply without an integer code") }
            events.append(.authReply(code: code))
        case .message:
            try decodeMessage(protover: protover, body: body, depth: depth, budget: &budget, into: &events)
        default:
            statistics.unknownOperations += 1
        }
    }

    private mutating func decodeMessage(
        protover: UInt16, body: UnsafeRawBufferPointer, depth: Int,
        budget: inout Int, into events: inout [DanmuEvent]
    ) throws(ProtocolError) {
        switch protover {
        case 0, 1:
            // An empty body carries no message; the JSON parser would call it malformed (issue 16).
            guard !body.isEmpty else { return }
            statistics.messages += 1
            do throws(ProtocolError) {
                try EventParser.parse(message: body, into: &events)
            } catch {
                statistics.malformedMessages += 1
                statistics.lastMalformed = error
            }
        case 2, 3:
            guard depth < maxNestingDepth else { throw .nestingTooDeep(maxNestingDepth) }
            var thrown: ProtocolError?
            if protover == 2 {
                // Walked where it was inflated: no array of the batch (issue 11).
                try MessageDecoder.withInflatedZlib(body, limit: budget) { batch in
                    thrown = walkDecompressed(batch, depth: depth, budget: &budget, into: &events)
                }
            } else {
                let batch = try MessageDecoder.decodeBrotli(body, limit: budget)
                batch.withUnsafeBytes { batch in
                    thrown = walkDecompressed(batch, depth: depth, budget: &budget, into: &events)
                }
            }
            if let thrown { throw thrown }
        default:
            statistics.unknownProtovers += 1
        }
    }

    /// One decompressed batch: its output taken from the budget and counted, then walked.
    private mutating func walkDecompressed(
        _ batch: UnsafeRawBufferPointer, depth: Int, budget: inout Int, into events: inout [DanmuEvent]
    ) -> ProtocolError? {
        budget -= batch.count
        statistics.decompressedBytes += batch.count
        do throws(ProtocolError) {
            try walkBatch(batch, depth: depth + 1, budget: &budget, into: &events)
        } catch { return error }
        return nil
    }

    /// Walks the inner packets of a decompressed batch by their declared lengths.
    private mutating func walkBatch(
        _ batch: UnsafeRawBufferPointer, depth: Int, budget: inout Int,
        into events: inout [DanmuEvent]
    ) throws(ProtocolError) {
        var offset = 0
        while offset < batch.count {
            let rest = UnsafeRawBufferPointer(rebasing: batch[offset...])
            guard let header = PacketHeader(parsing: rest) else {
                throw .truncatedBatch(declared: PacketHeader.size, available: rest.count)
            }
            try header.validate(maxLength: nil)
            guard Int(header.length) <= rest.count else {
                throw .truncatedBatch(declared: Int(header.length), available: rest.count)
            }
            let body = UnsafeRawBufferPointer(rebasing: rest[PacketHeader.size..<Int(header.length)])
            try decodePacket(
                operation: header.operation, protover: header.protover, body: body, depth: depth,
                budget: &budget, into: &events)
            offset += Int(header.length)
        }
    }
}
