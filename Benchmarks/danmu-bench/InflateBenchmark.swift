import DanmuCodecs
import Glibc
import TestSupport

/// Inflate throughput of `Zlib.decompress` against the system zlib (`libz.so.1`, loaded with dlopen; `uncompress`),
/// both measured in the same process on the same streams, which the system zlib compresses (`compress2`).
///
/// Corpora: (a) danmaku batches — inner packets (16-byte header + compact JSON built from Fixtures/samples with
/// varied digits), compressed at level 6, as one 1 MiB stream and as 3 KiB batches (the size of real ver-2
/// bodies, so per-stream setup counts); (b) a mixed 4 MiB corpus (danmaku, JSON lines, random bytes, runs,
/// low-entropy text) at level 6. Time is the thread's CPU time; each figure is the median of several runs; MB/s
/// counts decompressed bytes (10^6).
func runInflateBenchmark(quick: Bool) -> [BenchmarkFigure] {
    guard let libz = SystemZlib() else {
        return [BenchmarkFigure(name: "inflate", value: 0, unit: "", note: "libz.so.1 not found: no baseline")]
    }
    var rng = BenchRandom(seed: 42)
    let documents = InflateBench.loadSampleDocuments()
    guard !documents.isEmpty else {
        return [BenchmarkFigure(name: "inflate", value: 0, unit: "", note: "Fixtures/samples not found")]
    }
    let danmaku = InflateBench.danmakuBatch(documents, size: 1 << 20, rng: &rng)
    var batches: [[UInt8]] = []
    var offset = 0
    while offset + 3072 <= danmaku.count {
        batches.append(Array(danmaku[offset..<offset + 3072]))
        offset += 3072
    }
    let mixed = InflateBench.mixedCorpus(documents, size: 4 << 20, rng: &rng)
    let runs = quick ? 5 : 9
    let budget = quick ? 0.05 : 0.3
    var figures: [BenchmarkFigure] = []

    let cases: [(name: String, originals: [[UInt8]], note: String)] = [
        ("danmaku-1MiB", [danmaku], "1 MiB of danmaku inner packets, level 6, one stream"),
        ("danmaku-3KiB", batches, "\(batches.count) danmaku batches of 3 KiB, level 6 (real ver-2 body size)"),
        ("mixed-4MiB", [mixed], "4 MiB mixed corpus (JSON, random, runs, low-entropy), level 6, one stream"),
    ]
    for testCase in cases {
        let streams = testCase.originals.map { libz.compress($0, level: 6) }
        let total = testCase.originals.reduce(0) { $0 + $1.count }
        let compressed = streams.reduce(0) { $0 + $1.count }
        // Both decoders must agree with the original before anything is timed.
        for (stream, original) in zip(streams, testCase.originals) {
            guard (try? Zlib.decompress(stream)) == original, libz.uncompress(stream, size: original.count) == original
            else {
                figures.append(BenchmarkFigure(name: "inflate.\(testCase.name)", value: 0, unit: "", note: "MISMATCH"))
                return figures
            }
        }
        let ours = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: total) {
            var sink = 0
            for stream in streams { sink &+= (try? Zlib.decompress(stream))?.count ?? 0 }
            return sink
        }
        let sizes = testCase.originals.map(\.count)
        let system = measureMegabytesPerSecond(runs: runs, budget: budget, bytesPerPass: total) {
            var sink = 0
            for (stream, size) in zip(streams, sizes) { sink &+= libz.uncompress(stream, size: size)?.count ?? 0 }
            return sink
        }
        let ratio = ours / system
        figures.append(
            BenchmarkFigure(
                name: "inflate.\(testCase.name).danmu", value: ours, unit: "MB/s",
                note: "\(testCase.note); \(compressed) compressed bytes; median of \(runs)"))
        figures.append(
            BenchmarkFigure(
                name: "inflate.\(testCase.name).libz", value: system, unit: "MB/s",
                note: "system libz uncompress(), same streams"))
        figures.append(
            BenchmarkFigure(
                name: "inflate.\(testCase.name).ratio", value: (ratio * 100).rounded() / 100, unit: "x",
                note: "danmu / libz"))
    }
    return figures
}

/// The system zlib, resolved at run time (no link-time dependency, no module map).
struct SystemZlib {
    private typealias Uncompress =
        @convention(c) (
            UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt
        ) -> Int32
    private typealias Compress2 =
        @convention(c) (
            UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt, Int32
        ) -> Int32
    private let uncompressFunction: Uncompress
    private let compress2Function: Compress2

    init?() {
        guard let handle = dlopen("libz.so.1", RTLD_NOW),
            let u = dlsym(handle, "uncompress"), let c = dlsym(handle, "compress2")
        else { return nil }
        uncompressFunction = unsafeBitCast(u, to: Uncompress.self)
        compress2Function = unsafeBitCast(c, to: Compress2.self)
    }

    func compress(_ input: [UInt8], level: Int32) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count + input.count / 100 + 1024)
        var length = UInt(output.count)
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                compress2Function(destination.baseAddress, &length, source.baseAddress, UInt(source.count), level)
            }
        }
        precondition(status == 0, "compress2 failed: \(status)")
        return Array(output[..<Int(length)])
    }

    /// `size` is the known decompressed size (as a caller of uncompress must provide a large enough buffer).
    func uncompress(_ input: [UInt8], size: Int) -> [UInt8]? {
        var length = UInt(size)
        var status: Int32 = 0
        let output = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
            status = input.withUnsafeBufferPointer { source in
                uncompressFunction(buffer.baseAddress, &length, source.baseAddress, UInt(source.count))
            }
            count = status == 0 ? Int(length) : 0
        }
        return status == 0 ? output : nil
    }
}

enum InflateBench {
    /// The JSON samples, with newlines and indentation squeezed out (a cheap compaction: samples keep no
    /// significant whitespace outside strings... and strings keep theirs, as they contain no newlines).
    static func loadSampleDocuments() -> [[UInt8]] {
        let directory = fixturesDirectory + "/samples"
        return TestFiles.list(directory).filter { $0.hasSuffix(".json") }.compactMap { name -> [UInt8]? in
            TestFiles.read(directory + "/" + name)?.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        }
    }

    static func danmakuBatch(_ documents: [[UInt8]], size: Int, rng: inout BenchRandom) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(size + 65_536)
        while output.count < size {
            var document = documents[Int(rng.next() % UInt64(documents.count))]
            for index in document.indices where document[index] >= 0x30 && document[index] <= 0x39 {
                if rng.next() % 10 < 3 { document[index] = 0x30 + UInt8(rng.next() % 10) }
            }
            let length = UInt32(16 + document.count)
            output += [
                UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
                0, 16, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,
            ]
            output += document
        }
        return Array(output.prefix(size))
    }

    static func mixedCorpus(_ documents: [[UInt8]], size: Int, rng: inout BenchRandom) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(size + 65_536)
        while output.count < size {
            let n = Int(rng.next() % 40_000) + 1
            switch rng.next() % 4 {
            case 0: output += danmakuBatch(documents, size: n, rng: &rng)
            case 1: output += (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 2: output += [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: n)
            default:
                let alphabet = Array("etaoin shrdlu".utf8)
                output += (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            }
        }
        return Array(output.prefix(size))
    }
}
