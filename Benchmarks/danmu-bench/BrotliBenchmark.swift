import DanmuCodecs
import Glibc
import TestSupport

/// Brotli decoding speed, ours against the system's libbrotlidec (loaded with dlopen, measured in the same
/// process on the same inputs), in MB/s of decompressed output. Inputs are the committed reference streams in
/// Fixtures/generated/brotli (made by Scripts/gen_brotli_fixtures.py with Google's encoder):
/// danmaku-like JSON (1 MiB) at quality 11 and 5, a 400 kB JSON text at quality 9 (window 24), and all small
/// JSON batches (≤ 16 kB, qualities 0–11) decoded one after another like live protover-3 bodies.
/// Each figure is the median of several runs of ≥ `budget` seconds of thread CPU time.
func runBrotliBenchmark(quick: Bool) -> [BenchmarkFigure] {
    let directory = fixturesDirectory + "/generated/brotli/"
    let names = BrotliBench.manifestNames(directory)
    func streams(_ match: (String) -> Bool) -> [[UInt8]] {
        names.filter(match).compactMap { TestFiles.read(directory + $0 + ".br") }
    }
    let cases: [(label: String, inputs: [[UInt8]])] = [
        ("json-1MiB.q11", streams { $0.hasSuffix("-q11-w22-json-1048576") }),
        ("json-1MiB.q5", streams { $0.hasSuffix("-q5-w22-json-1048576") }),
        ("text-400kB.q9", streams { $0.hasSuffix("-q9-w24-text-400000") }),
        ("json-batches", streams { $0.contains("-json-") && (Int($0.split(separator: "-").last!) ?? .max) <= 16384 }),
    ]
    let reference = BrotliBench.loadReference()
    let runs = quick ? 5 : 9
    let budget = quick ? 0.05 : 0.3
    var figures: [BenchmarkFigure] = []
    for (label, inputs) in cases {
        guard !inputs.isEmpty else {
            figures.append(BenchmarkFigure(name: "brotli.\(label)", value: 0, unit: "", note: "fixture missing"))
            continue
        }
        let outputs = inputs.map { (try? Brotli.decompress($0, limit: 64 << 20)) ?? [] }
        let outputBytes = outputs.reduce(0) { $0 + $1.count }
        let compressedBytes = inputs.reduce(0) { $0 + $1.count }
        let ours = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: outputBytes) {
            var sink = 0
            for input in inputs { sink &+= (try? Brotli.decompress(input, limit: 64 << 20))?.count ?? 0 }
            return sink
        }
        let what = "\(inputs.count) stream(s), \(compressedBytes) → \(outputBytes) bytes, median of \(runs)"
        figures.append(BenchmarkFigure(name: "brotli.\(label).swift", value: ours, unit: "MB/s", note: what))
        guard let reference else { continue }
        var scratch = [UInt8](repeating: 0, count: outputs.map(\.count).max()! + 1)
        // Check once that both decoders agree before timing the reference.
        for (input, output) in zip(inputs, outputs) {
            var size = scratch.count
            let ok = reference(input.count, input, &size, &scratch) == 1
            if !ok || size != output.count || !scratch[0..<size].elementsEqual(output) {
                figures.append(
                    BenchmarkFigure(name: "brotli.\(label)", value: 0, unit: "", note: "MISMATCH vs libbrotlidec"))
            }
        }
        let theirs = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: outputBytes) {
            var sink = 0
            for input in inputs {
                var size = scratch.count
                _ = reference(input.count, input, &size, &scratch)
                sink &+= size
            }
            return sink
        }
        figures.append(
            BenchmarkFigure(
                name: "brotli.\(label).libbrotlidec", value: theirs, unit: "MB/s", note: "same inputs, same process"))
        figures.append(
            BenchmarkFigure(
                name: "brotli.\(label).ratio", value: theirs > 0 ? ours / theirs : 0, unit: "x",
                note: "ours / libbrotlidec (target ≥ 0.6)"))
    }
    if reference == nil {
        figures.append(
            BenchmarkFigure(
                name: "brotli.libbrotlidec", value: 0, unit: "", note: "libbrotlidec.so.1 not found: no baseline"))
    }
    return figures
}

enum BrotliBench {
    /// `BrotliDecoderDecompress(encoded_size, encoded, &decoded_size, decoded) -> BrotliDecoderResult` (1 = success).
    typealias Decompress =
        @convention(c) (
            Int, UnsafePointer<UInt8>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<UInt8>?
        ) -> Int32

    static func loadReference() -> Decompress? {
        guard let library = dlopen("libbrotlidec.so.1", RTLD_NOW),
            let symbol = dlsym(library, "BrotliDecoderDecompress")
        else { return nil }
        return unsafeBitCast(symbol, to: Decompress.self)
    }

    static func manifestNames(_ directory: String) -> [String] {
        guard let manifest = TestFiles.read(directory + "manifest.tsv") else { return [] }
        return String(decoding: manifest, as: UTF8.self).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: "\t").first.map(String.init) }
    }
}
