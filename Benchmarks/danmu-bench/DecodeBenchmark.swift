import DanmuClient
import DanmuCodecs
import Glibc
import TestSupport

/// Issue 11: one `DANMU_MSG` body to its typed event, on demand (`EventParser.parse`) and by the strict full
/// parser (`EventParser.parseFully`), in the same run (thread CPU time, medians): the on-demand path's gain
/// without the rest of the pipeline around it.
func runDecodeFigures(quick: Bool) -> [BenchmarkFigure] {
    let runs = quick ? 3 : 7
    let budget = quick ? 0.05 : 0.3
    var figures: [BenchmarkFigure] = []
    for (name, file) in [("2024", "DANMU_MSG.ubw-2024-03.json"), ("2021", "DANMU_MSG.capture-sunkey-2021-01.json")] {
        guard let body = TestFiles.read("Fixtures/samples/" + file), !body.isEmpty else { continue }
        let perPass = 1_000
        var events: [DanmuEvent] = []
        events.reserveCapacity(perPass)
        func rate(_ parse: (UnsafeRawBufferPointer, inout [DanmuEvent]) -> Void) -> Double {
            body.withUnsafeBytes { raw in
                measureRate(runs: runs, budget: budget, unitsPerPass: perPass) {
                    events.removeAll(keepingCapacity: true)
                    for _ in 0..<perPass { parse(raw, &events) }
                    return events.count
                }
            }
        }
        let onDemand = rate { raw, out in try? EventParser.parse(message: raw, into: &out) }
        let strict = rate { raw, out in try? EventParser.parseFully(message: raw, into: &out) }
        figures.append(
            BenchmarkFigure(
                name: "decode.danmaku_\(name).on_demand_ns", value: 1e9 / onDemand, unit: "ns/message",
                note: "\(file) (\(body.count) B) → .danmaku, EventParser.parse, median of \(runs)"))
        figures.append(
            BenchmarkFigure(
                name: "decode.danmaku_\(name).strict_ns", value: 1e9 / strict, unit: "ns/message",
                note:
                    "the same through parseFully (JSONDocument tape + codec); on-demand is \((onDemand / strict * 100).rounded() / 100)× faster"
            ))
    }
    return figures
}

/// The decode-only workload of issue 11's per-event figures: one batch of ten messages as the wire carries it
/// (plain: ten ver-0 packets; zlib: one ver-2 packet, fixed-Huffman as the simulator sends it; brotli: one ver-3
/// packet of uncompressed meta-blocks, as the live server sends small batches), cut into frames once and then
/// decoded by `MessageDecoder` again and again (the fixtures made compact, as the server sends them). The mix is the flood's kind of traffic: `danmaku` is ten
/// `DANMU_MSG`s; `mix` is five `DANMU_MSG`, three `INTERACT_WORD`, two `SEND_GIFT`.
struct DecodeWorkload {
    let frames: [Frame]
    let eventsPerPass: Int

    static let mixes: [String: [String]] = [
        "danmaku": Array(repeating: "DANMU_MSG.ubw-2024-03.json", count: 5)
            + Array(repeating: "DANMU_MSG.capture-sunkey-2021-01.json", count: 5),
        "mix": [
            "DANMU_MSG.ubw-2024-03.json", "INTERACT_WORD.capture-sunkey-2021-01.json",
            "DANMU_MSG.capture-sunkey-2021-01.json", "SEND_GIFT.capture-sunkey-2021-01.json",
            "DANMU_MSG.emoticon.ubw-2024-04.json", "INTERACT_WORD.capture-dengzixu-2021-04.json",
            "DANMU_MSG.capture-dengzixu-2021-04.json", "SEND_GIFT.bac-doc.json",
            "DANMU_MSG.ubw-2024-03.json", "INTERACT_WORD.bac-doc.json",
        ],
    ]

    init?(compression: String, mix: String) {
        guard let files = Self.mixes[mix] else { return nil }
        var packets: [UInt8] = []
        for file in files {
            guard let body = TestFiles.read("Fixtures/samples/" + file) else { return nil }
            Packet.append(.message, protover: 0, sequence: 0, body: Self.compact(body), to: &packets)
        }
        var wire: [UInt8] = []
        switch compression {
        case "plain": wire = packets
        case "zlib": Packet.append(.message, protover: 2, sequence: 0, body: Zlib.compress(packets), to: &wire)
        case "brotli":
            Packet.append(.message, protover: 3, sequence: 0, body: Brotli.compressUncompressed(packets), to: &wire)
        default: return nil
        }
        var cutter = FrameDecoder()
        guard let frames = try? cutter.feed(wire), !frames.isEmpty else { return nil }
        self.frames = frames
        var decoder = MessageDecoder()
        var events: [DanmuEvent] = []
        for frame in frames { try? decoder.decode(frame, into: &events) }
        eventsPerPass = events.count
        guard eventsPerPass == files.count else { return nil }
    }

    /// The fixtures are pretty-printed; the server sends compact JSON. Drops whitespace outside strings.
    static func compact(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == 0x5C {
                    escaped = true
                } else if byte == 0x22 {
                    inString = false
                }
            } else if byte == 0x22 {
                inString = true
            } else if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                continue
            }
            out.append(byte)
        }
        return out
    }

    /// Decodes every frame once; the number of events.
    func pass(_ decoder: inout MessageDecoder, _ events: inout [DanmuEvent]) -> Int {
        events.removeAll(keepingCapacity: true)
        for frame in frames { try? decoder.decode(frame, into: &events) }
        return events.count
    }
}

/// CPU per event of `DecodeWorkload` (thread CPU time, medians), plain / zlib / brotli, both mixes.
func runDecodeFrameFigures(quick: Bool) -> [BenchmarkFigure] {
    let runs = quick ? 3 : 7
    let budget = quick ? 0.05 : 0.3
    var figures: [BenchmarkFigure] = []
    for mix in ["danmaku", "mix"] {
        for compression in ["plain", "zlib", "brotli"] {
            guard let workload = DecodeWorkload(compression: compression, mix: mix) else { continue }
            var decoder = MessageDecoder()
            var events: [DanmuEvent] = []
            events.reserveCapacity(workload.eventsPerPass)
            let rate = measureRate(runs: runs, budget: budget, unitsPerPass: workload.eventsPerPass) {
                workload.pass(&decoder, &events)
            }
            figures.append(
                BenchmarkFigure(
                    name: "decode.frames_\(mix)_\(compression).cpu_ns", value: 1e9 / rate, unit: "ns/event",
                    note: "MessageDecoder on a pre-cut batch of 10 (\(mix), \(compression)), median of \(runs)"))
        }
    }
    return figures
}

/// `DANMU_DECODE_ONLY=<plain|zlib|brotli>,<danmaku|mix>,<passes>` with the `protocol` scenario: exactly that
/// many passes of `DecodeWorkload` and nothing else, for counting under valgrind (instructions and allocations
/// per event are load-independent). Run it at two pass counts and divide the difference by the events between
/// them, which cancels start-up and fixture loading.
func runDecodeOnlyIfAsked() -> Bool {
    guard let spec = getenv("DANMU_DECODE_ONLY") else { return false }
    let parts = String(cString: spec).split(separator: ",").map(String.init)
    guard parts.count == 3, let passes = Int(parts[2]), passes >= 0,
        let workload = DecodeWorkload(compression: parts[0], mix: parts[1])
    else {
        progress("DANMU_DECODE_ONLY wants <plain|zlib|brotli>,<danmaku|mix>,<passes>")
        exit(2)
    }
    var decoder = MessageDecoder()
    var events: [DanmuEvent] = []
    events.reserveCapacity(workload.eventsPerPass)
    var total = 0
    for _ in 0..<passes { total &+= workload.pass(&decoder, &events) }
    progress("decode-only: \(passes) passes, \(total) events (\(parts[0]), \(parts[1]))")
    return true
}
