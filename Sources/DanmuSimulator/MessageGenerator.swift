import DanmuClient

/// How op-5 messages are packed on the wire.
public enum Compression: String, Sendable, CaseIterable {
    /// Every message is its own ver 0 packet (a "batch" is then several packets in one write).
    case none
    /// ver 2: one outer packet whose body is a zlib stream of ver 0 packets (protover 2).
    case zlib
    /// ver 3: one outer packet whose body is a brotli stream of ver 0 packets (protover 3).
    case brotli

    /// The compression a client asking for `protover` gets: 0 → none, 1/2 → zlib, 3 → brotli. The live server
    /// stopped sending plain messages to protover 1 in 2020 and answers it with zlib batches (issue 16); protover 0
    /// stays plain here, the simulator's uncompressed mode for tests (docs/simulator.md).
    public init?(protover: Int) {
        switch protover {
        case 0: self = .none
        case 1, 2: self = .zlib
        case 3: self = .brotli
        default: return nil
        }
    }
}

/// Per-room state that survives reconnects (loop-confined, owned by the simulator's room table).
struct RoomStream {
    let room: Int64
    /// Last danmaku sequence number handed out (0 = none yet).
    var lastSeq: UInt64 = 0
    /// Position in the mix cycle; starts at a per-room offset so rooms do not send the same kind at once.
    var cyclePosition: Int
    var messagesSent: UInt64 = 0

    init(room: Int64, cycleLength: Int) {
        self.room = room
        // Fibonacci hashing of the room id: a cheap, well spread start offset.
        let hash = UInt64(bitPattern: room) &* 0x9E37_79B9_7F4A_7C15
        self.cyclePosition = Int((hash >> 33) % UInt64(cycleLength))
    }
}

/// Generates op-5 packets for a room. Immutable after init (shared by all rooms); the caller passes the room's
/// `RoomStream` and a reusable scratch buffer.
struct MessageGenerator: Sendable {
    let template: DanmakuTemplate
    /// One entry per cycle slot: the complete ver-0 packet of a static body, or nil for a danmaku.
    let cycle: [[UInt8]?]

    init(mix: MessageMix, template: DanmakuTemplate = DanmakuTemplate()) {
        self.template = template
        var packets: [SampleKind: [UInt8]] = [:]
        for kind in SampleKind.allCases {
            guard let body = kind.staticBody else { continue }
            var packet: [UInt8] = []
            Packet.append(.message, protover: 0, sequence: 0, body: Array(body.utf8), to: &packet)
            packets[kind] = packet
        }
        self.cycle = mix.cycle().map { packets[$0] }
    }

    /// Appends `count` ver-0 op-5 packets (the room's next messages in its mix cycle). Returns how many were
    /// danmaku (each consumed one sequence number). `masked`: as a guest socket sees them (`DanmakuTemplate`).
    @discardableResult
    func appendMessages(
        _ count: Int, stream: inout RoomStream, monotonicNs: UInt64, unixMs: Int64, masked: Bool = false,
        into out: inout [UInt8]
    ) -> Int {
        var danmaku = 0
        for _ in 0..<count {
            if let packet = cycle[stream.cyclePosition] {
                out.append(contentsOf: packet)
            } else {
                stream.lastSeq += 1
                danmaku += 1
                let start = Packet.begin(.message, protover: 0, sequence: 0, in: &out)
                template.append(
                    room: stream.room, seq: stream.lastSeq, monotonicNs: monotonicNs, unixMs: unixMs,
                    masked: masked, into: &out)
                Packet.finish(startingAt: start, in: &out)
            }
            stream.cyclePosition += 1
            if stream.cyclePosition == cycle.count { stream.cyclePosition = 0 }
        }
        stream.messagesSent &+= UInt64(count)
        return danmaku
    }

    /// Appends one batch of `count` messages as the wire shows it: `count` ver-0 packets for `.none`, or one
    /// ver-2/ver-3 outer packet wrapping them. `scratch` is reused between calls to avoid allocations.
    @discardableResult
    func appendBatch(
        _ count: Int, compression: Compression, stream: inout RoomStream, monotonicNs: UInt64,
        unixMs: Int64, masked: Bool = false, scratch: inout [UInt8], into out: inout [UInt8]
    ) -> Int {
        switch compression {
        case .none:
            return appendMessages(
                count, stream: &stream, monotonicNs: monotonicNs, unixMs: unixMs, masked: masked, into: &out)
        case .zlib, .brotli:
            scratch.removeAll(keepingCapacity: true)
            let danmaku = appendMessages(
                count, stream: &stream, monotonicNs: monotonicNs, unixMs: unixMs, masked: masked,
                into: &scratch)
            let compressed = BatchCompressor.compress(scratch, compression)
            Packet.append(.message, protover: compression == .zlib ? 2 : 3, sequence: 0, body: compressed, to: &out)
            return danmaku
        }
    }
}
