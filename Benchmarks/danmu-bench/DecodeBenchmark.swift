import DanmuClient
import DanmuCodecs
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
