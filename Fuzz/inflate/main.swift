// libFuzzer target for inflate: build with `Fuzz/build.sh inflate`, run with
// `Fuzz/out/inflate Fuzz/inflate/seeds -max_total_time=600 -rss_limit_mb=2048`.
//
// Checks, for any input: one-shot zlib and raw inflate never crash and respect the output limit; the streaming
// inflater fed in chunks (sizes derived from the input) agrees with the one-shot result exactly (same output, or
// both fail); and compressing the input with both encoder modes round-trips.

@testable import DanmuCodecs

private let fuzzLimit = 1 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func inflateFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let chunkSize = size > 0 ? Int(data[0] % 23) + 1 : 1
    for format in [InflateFormat.zlib, .raw] {
        let oneShot: [UInt8]?
        switch format {
        case .zlib: oneShot = try? Zlib.decompress(input, limit: fuzzLimit)
        case .raw: oneShot = try? Deflate.decompress(input, limit: fuzzLimit)
        }
        if let oneShot, oneShot.count > fuzzLimit { fatalError("output over the limit") }
        var inflater = Inflater(format: format, limit: fuzzLimit)
        var streamed: [UInt8] = []
        var ok = true
        do {
            var position = 0
            while position < size {
                let end = min(size, position + chunkSize)
                try inflater.feed(UnsafeRawBufferPointer(rebasing: input[position..<end]), into: &streamed)
                position = end
            }
            try inflater.finish(into: &streamed)
        } catch {
            ok = false
        }
        if ok != (oneShot != nil) { fatalError("streaming and one-shot disagree on success (\(format))") }
        if let oneShot, oneShot != streamed { fatalError("streaming and one-shot outputs differ (\(format))") }
    }
    let bytes = Array(input)
    for mode in [DeflateMode.stored, .fixedHuffman] {
        guard let back = try? Zlib.decompress(Zlib.compress(bytes, mode: mode), limit: Int.max), back == bytes else {
            fatalError("round trip failed (\(mode))")
        }
    }
    return 0
}
