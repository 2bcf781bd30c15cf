import DanmuCodecs
import Glibc

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
        let parse = JSONBench.measure(runs: runs, budget: budget, bytesPerPass: bytes) {
            var sink = 0
            for body in corpus { sink &+= (try? JSONDocument(parsing: body))?.nodeCount ?? 0 }
            return sink
        }
        figures.append(BenchmarkFigure(
            name: "json.parse.\(label)", value: parse, unit: "MB/s",
            note: "full parse of \(corpus.count) DANMU_MSG bodies, \(bytes) bytes per pass, median of \(runs)"))
        let extract = JSONBench.measure(runs: runs, budget: budget, bytesPerPass: bytes) {
            var sink = 0
            for body in corpus { sink &+= JSONBench.extractDanmaku(body) }
            return sink
        }
        figures.append(BenchmarkFigure(
            name: "json.extract.\(label)", value: extract, unit: "MB/s",
            note: "parse + danmaku fields incl. extra.id_str; \(pct(extract, parse)) of full-parse speed"))
        let scanned = JSONBench.measure(runs: runs, budget: budget, bytesPerPass: bytes) {
            var sink = 0
            for body in corpus { sink &+= JSONBench.extractDanmaku(body, scanExtra: true) }
            return sink
        }
        figures.append(BenchmarkFigure(
            name: "json.extract-scan-extra.\(label)", value: scanned, unit: "MB/s",
            note: "as extract, but extra.id_str via JSONScanner on the decoded extra (no second full parse)"))
    }

    let written = values.reduce(0) { $0 + $1.serialized().count }
    let write = JSONBench.measure(runs: runs, budget: budget, bytesPerPass: written) {
        var sink = 0
        var writer = JSONWriter(capacity: 4096)
        for value in values {
            writer.reset()
            writer.value(value)
            sink &+= writer.bytes.count
        }
        return sink
    }
    figures.append(BenchmarkFigure(
        name: "json.write", value: write, unit: "MB/s",
        note: "JSONWriter re-serialising the parsed bodies (\(written) output bytes per pass)"))

    let compactBytes = compact.reduce(0) { $0 + $1.count }
    let scan = JSONBench.measure(runs: runs, budget: budget, bytesPerPass: compactBytes) {
        var sink = 0
        for body in compact { sink &+= JSONScanner.firstString(forKey: "cmd", in: body)?.utf8.count ?? 0 }
        return sink
    }
    figures.append(BenchmarkFigure(
        name: "json.cmd-scan.compact", value: scan, unit: "MB/s",
        note: "firstString(forKey: \"cmd\") without a full parse (body bytes per second)"))
    return figures
}

private func pct(_ a: Double, _ b: Double) -> String {
    b > 0 ? "\(Int((a / b * 100).rounded()))%" : "n/a"
}

enum JSONBench {
    /// Repository root: this file is <root>/Benchmarks/danmu-bench/JSONBenchmark.swift.
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func loadDanmakuBodies() -> [[UInt8]] {
        let directory = root + "/Fixtures/samples"
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("DANMU_MSG") && name.hasSuffix(".json") { names.append(name) }
        }
        return names.sorted().compactMap { readFile(directory + "/" + $0) }
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
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

    /// CPU time of the calling thread: other processes competing for the (shared) cores do not inflate it.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median MB/s (10^6 bytes) over `runs`, each repeating `pass` for about `budget` seconds.
    static func measure(runs: Int, budget: Double, bytesPerPass: Int, _ pass: () -> Int) -> Double {
        var rates: [Double] = []
        var sink = 0
        sink &+= pass()  // warm-up
        for _ in 0..<runs {
            var passes = 0
            var batch = 1
            let start = now()
            var elapsed = 0.0
            repeat {
                // Reading the thread CPU clock is a system call: read it after batches that grow to ~1 ms.
                for _ in 0..<batch { sink &+= pass() }
                passes += batch
                elapsed = now() - start
                if elapsed < 0.001 * Double(passes) / Double(batch) { batch *= 2 }
            } while elapsed < budget
            rates.append(Double(passes * bytesPerPass) / elapsed / 1e6)
        }
        if sink == 42 { print("", terminator: "") }  // keep `sink` observable
        rates.sort()
        return rates[rates.count / 2]
    }
}
