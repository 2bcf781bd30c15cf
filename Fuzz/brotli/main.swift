// libFuzzer target for Brotli.decompress. Build: Fuzz/build.sh brotli; run:
// Fuzz/out/brotli Fuzz/brotli/seeds -max_total_time=600 -rss_limit_mb=2048
// Any input must either throw BrotliError or decode to at most `limit` bytes; a decoded result must survive a
// round trip through compressUncompressed. A crash, a hang or an allocation above the cap is a bug.

@testable import DanmuCodecs

@_cdecl("LLVMFuzzerTestOneInput")
public func brotliFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let limit = 1 << 20
    guard let output = try? Brotli.decompress(input, limit: limit) else { return 0 }
    precondition(output.count <= limit, "output above the cap")
    let again = try? Brotli.decompress(Brotli.compressUncompressed(output), limit: limit)
    precondition(again == output, "compressUncompressed round trip differs")
    return 0
}
