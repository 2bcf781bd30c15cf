import DanmuClient
import DanmuCodecs
import Glibc
import TestSupport

/// Protocol-layer throughput: JSON Lines output (events/s written to /dev/null in 64 KiB batches) and full
/// decoding of a real zlib batch capture (frame → 8 typed events). Medians of several runs of thread CPU time.
func runProtocolBenchmark(quick: Bool) -> [BenchmarkFigure] {
    if runDecodeOnlyIfAsked() { return [] }
    func read(_ relative: String) -> [UInt8] {
        TestFiles.read(relative) ?? []
    }
    let runs = quick ? 3 : 7
    let budget = quick ? 0.1 : 0.4
    var figures: [BenchmarkFigure] = []

    // A realistic mix: mostly danmaku, some interact/gift/counters.
    var events: [DanmuEvent] = []
    for file in [
        "DANMU_MSG.ubw-2024-03.json", "DANMU_MSG.emoticon.ubw-2024-04.json", "DANMU_MSG.capture-dengzixu-2021-04.json",
        "INTERACT_WORD.bac-doc.json", "SEND_GIFT.bac-doc.json", "ONLINE_RANK_COUNT.bac-doc.json",
        "DANMU_MSG.capture-sunkey-2021-01.json", "WATCHED_CHANGE.bac-doc.json",
    ] {
        try? EventParser.parse(message: read("Fixtures/samples/" + file), into: &events)
    }
    if !events.isEmpty, let devNull = fopen("/dev/null", "w") {
        var writer = JSONWriter(capacity: 1 << 17)
        let perPass = 10_000
        let rate = measureRate(runs: runs, budget: budget, unitsPerPass: perPass) {
            for i in 0..<perPass {
                writeJSONLine(
                    room: 14_073_662, receivedAt: 1_763_750_000_000_000_000 &+ Int64(i),
                    event: events[i % events.count], into: &writer)
                if writer.bytes.count >= 1 << 16 {
                    fwrite(writer.bytes, 1, writer.bytes.count, devNull)
                    writer.reset()
                }
            }
            return writer.bytes.count
        }
        fclose(devNull)
        figures.append(
            BenchmarkFigure(
                name: "protocol.jsonl_events_per_s", value: rate, unit: "events/s",
                note:
                    "writeJSONLine of a \(events.count)-event sample mix to /dev/null in 64 KiB batches, median of \(runs)"
            ))
    }

    let capture = read("Fixtures/captures/sunkey_2021-01_s2c_op5_ver2_zlib_8pkts.bin")
    if !capture.isEmpty {
        var out: [DanmuEvent] = []
        let rate = measureRate(runs: runs, budget: budget, unitsPerPass: 100) {
            var frames = FrameDecoder()
            var decoder = MessageDecoder()
            out.removeAll(keepingCapacity: true)
            for _ in 0..<100 {
                for frame in (try? frames.feed(capture)) ?? [] { try? decoder.decode(frame, into: &out) }
            }
            return out.count
        }
        figures.append(
            BenchmarkFigure(
                name: "protocol.decode_zlib_frames_per_s", value: rate, unit: "frames/s",
                note: "FrameDecoder + MessageDecoder on the 1358-byte 8-message zlib capture, median of \(runs)"))
    }
    return figures + runDecodeFigures(quick: quick) + runDecodeFrameFigures(quick: quick)
}
