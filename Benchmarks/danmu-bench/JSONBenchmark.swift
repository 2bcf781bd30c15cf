import DanmuCodecs
import Glibc
import TestSupport

/// JSON scenarios on the real DANMU_MSG bodies of Fixtures/samples (7 files, 2021–2024 shapes), both as stored
/// (some are pretty-printed) and compacted (the form the server sends). Figures are medians of several runs.
///
/// Time is the benchmarking thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy machine skews figures less.
/// (a) full parse (validate + tape); (b) parse + the fields the client extracts from a danmaku (cmd, info[0][4],
/// info[1], info[2][0..1], info[3], info[7], and id_str from the JSON string info[0][15].extra, parsed again);
/// (c) the writer re-serialising the parsed values; (d) `JSONScanner.firstString(forKey: "cmd")` alone.
func runJSONBenchmark(quick: Bool) -> [BenchmarkFigure] {
    let stored = JSONBench.loadDanmakuBodies()
    guard !stored.isEmpty else {
        return [BenchmarkFigure(name: "json", value: 0, unit: "", note: "no DANMU_MSG samples found")]
    }
    let compact = stored.map { body in (try? JSONDocument(parsing: body).root.toValue().serialized()) ?? body }
    let values = compact.map { (try? JSONValue(parsing: $0)) ?? .null }
    let runs = quick ? 5 : 9
    let budget = quick ? 0.05 : 0.25  // seconds per run
    var figures: [BenchmarkFigure] = []

    for (label, corpus) in [("compact", compact), ("stored", stored)] {
        let bytes = corpus.reduce(0) { $0 + $1.count }
        let parse = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: bytes, batched: true) {
            var sink = 0
            for body in corpus { sink &+= (try? JSONDocument(parsing: body))?.nodeCount ?? 0 }
            return sink
        }
        figures.append(
            BenchmarkFigure(
                name: "json.parse.\(label)", value: parse, unit: "MB/s",
                note: "full parse of \(corpus.count) DANMU_MSG bodies, \(bytes) bytes per pass, median of \(runs)"))
        let extract = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: bytes, batched: true) {
            var sink = 0
            for body in corpus { sink &+= JSONBench.extractDanmaku(body) }
            return sink
        }
        figures.append(
            BenchmarkFigure(
                name: "json.extract.\(label)", value: extract, unit: "MB/s",
                note: "parse + danmaku fields incl. extra.id_str; \(pct(extract, parse)) of full-parse speed"))
        let scanned = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: bytes, batched: true) {
            var sink = 0
            for body in corpus { sink &+= JSONBench.extractDanmaku(body, scanExtra: true) }
            return sink
        }
        figures.append(
            BenchmarkFigure(
                name: "json.extract-scan-extra.\(label)", value: scanned, unit: "MB/s",
                note: "as extract, but extra.id_str via JSONScanner on the decoded extra (no second full parse)"))
    }

    let written = values.reduce(0) { $0 + $1.serialized().count }
    let write = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: written, batched: true) {
        var sink = 0
        var writer = JSONWriter(capacity: 4096)
        for value in values {
            writer.reset()
            writer.value(value)
            sink &+= writer.bytes.count
        }
        return sink
    }
    figures.append(
        BenchmarkFigure(
            name: "json.write", value: write, unit: "MB/s",
            note: "JSONWriter re-serialising the parsed bodies (\(written) output bytes per pass)"))

    let compactBytes = compact.reduce(0) { $0 + $1.count }
    let scan = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: compactBytes, batched: true) {
        var sink = 0
        for body in compact { sink &+= JSONScanner.firstString(forKey: "cmd", in: body)?.utf8.count ?? 0 }
        return sink
    }
    figures.append(
        BenchmarkFigure(
            name: "json.cmd-scan.compact", value: scan, unit: "MB/s",
            note: "firstString(forKey: \"cmd\") without a full parse (body bytes per second)"))
    return figures
}

private func pct(_ a: Double, _ b: Double) -> String {
    b > 0 ? "\(Int((a / b * 100).rounded()))%" : "n/a"
}

enum JSONBench {
    static func loadDanmakuBodies() -> [[UInt8]] {
        let directory = fixturesDirectory + "/samples"
        return TestFiles.list(directory).filter { $0.hasPrefix("DANMU_MSG") && $0.hasSuffix(".json") }
            .compactMap { TestFiles.read(directory + "/" + $0) }
    }

    /// What the client's danmaku decoding reads; returns a checksum so nothing is optimised away.
    @inline(never)
    static func extractDanmaku(_ body: [UInt8], scanExtra: Bool = false) -> Int {
        guard let root = try? JSONDocument(parsing: body).root else { return 0 }
        var sink = 0
        sink &+= root["cmd"]?.string?.utf8.count ?? 0
        guard let info = root["info"] else { return sink }
        let meta = info[0]
        sink &+= Int(truncatingIfNeeded: meta?[4]?.int64 ?? 0)
        sink &+= info[1]?.string?.utf8.count ?? 0
        let user = info[2]
        sink &+= Int(truncatingIfNeeded: user?[0]?.int64Lenient ?? 0)
        sink &+= user?[1]?.string?.utf8.count ?? 0
        if let medal = info[3], medal.count > 1 {
            sink &+= Int(truncatingIfNeeded: medal[0]?.int64 ?? 0)
            sink &+= medal[1]?.string?.utf8.count ?? 0
        }
        sink &+= Int(truncatingIfNeeded: info[7]?.int64 ?? 0)
        if scanExtra {
            if let extraBytes = meta?[15]?["extra"]?.stringBytes {
                sink &+= JSONScanner.firstString(forKey: "id_str", in: extraBytes)?.utf8.count ?? 0
            }
        } else if let extra = (try? meta?[15]?["extra"]?.parseStringAsJSON())??.root {
            sink &+= extra["id_str"]?.string?.utf8.count ?? 0
        }
        return sink
    }
}
