import TestSupport
import XCTest

@testable import DanmuCodecs

/// `Brotli.compressUncompressed`, the simulator's encoder.
final class BrotliUncompressedTests: XCTestCase {
    func testRoundTripsAcrossSizes() throws {
        var random = SplitMixRandom(seed: 7)
        for size in [0, 1, 2, 100, 65_535, 65_536, 65_537, 1 << 20, 3 << 20 | 12_345] {
            let input = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let stream = Brotli.compressUncompressed(input)
            XCTAssertEqual(try Brotli.decompress(stream), input, "size \(size)")
        }
    }

    func testSplitsInputsAboveTheMetaBlockLimit() throws {
        let input = [UInt8](repeating: 0x5A, count: (1 << 24) + 1000)
        let stream = Brotli.compressUncompressed(input)
        // 4 bits WBITS + 28-bit header (6 nibbles) = 4 bytes, a 20-bit header padded to 3 bytes, 1 final byte.
        XCTAssertEqual(stream.count, input.count + 4 + 3 + 1)
        XCTAssertEqual(try Brotli.decompress(stream, limit: 32 << 20), input)
    }

    /// Exact bytes, checked once against Python's brotli.decompress (the reference decoder): small batches
    /// start with 0x0b (or 0x8b when MLEN - 1 is odd) like the server's uncompressed meta-blocks.
    func testMatchesKnownBytes() {
        XCTAssertEqual(Brotli.compressUncompressed([]), [0x3B])
        XCTAssertEqual(
            Brotli.compressUncompressed(Array("hello".utf8)),
            [0x0B, 0x02, 0x80, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x03])
        XCTAssertEqual(Brotli.compressUncompressed([1, 2]).first, 0x8B)
    }
}
