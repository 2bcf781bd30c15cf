import XCTest
@testable import DanmuCodecs

final class ZlibCompressTests: XCTestCase {
    private func inputs() -> [[UInt8]] {
        var rng = SplitMix(seed: 3)
        var list: [[UInt8]] = [[], [0], Array("a".utf8), Array(repeating: 7, count: 100_000),
                               (0..<70_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }]
        list += ZlibFixture.all.compactMap(\.original).filter { $0.count <= 40_000 }.prefix(30)
        return list
    }

    func testStoredAndFixedRoundTripThroughOurInflater() throws {
        for input in inputs() {
            for mode in [DeflateMode.stored, .fixedHuffman] {
                let zlib = Zlib.compress(input, mode: mode)
                XCTAssertEqual(try Zlib.decompress(zlib), input, "\(mode) \(input.count)")
                let raw = Deflate.compress(input, mode: mode)
                XCTAssertEqual(try Deflate.decompress(raw), input, "raw \(mode) \(input.count)")
            }
        }
    }

    func testHeaderAndTrailerAreValidZlib() {
        let stream = Zlib.compress(Array("hello hello hello".utf8))
        XCTAssertEqual(stream[0], 0x78)
        XCTAssertEqual((UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31, 0, "FCHECK")
        let adler = ZlibAdler32.checksum(Array("hello hello hello".utf8))
        XCTAssertEqual(Array(stream.suffix(4)), [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF),
                                                  UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)])
    }

    func testFixedHuffmanCompressesRepetitiveDanmaku() throws {
        let fixture = try XCTUnwrap(ZlibFixture.all.first { $0.name.contains("danmaku") && $0.originalLength > 5000 })
        let original = try XCTUnwrap(fixture.original)
        let compressed = Zlib.compress(original, mode: .fixedHuffman)
        XCTAssertLessThan(compressed.count, original.count / 2, "LZ77 finds the repeated keys")
        XCTAssertEqual(Zlib.compress(original, mode: .stored).count, original.count + 2 + 4 + 5 * (original.count / 65_535 + 1))
    }

    func testAdler32KnownValues() {
        XCTAssertEqual(ZlibAdler32.checksum([]), 1)
        XCTAssertEqual(ZlibAdler32.checksum(Array("Wikipedia".utf8)), 0x11E6_0398)
        // Long input crosses the 5552-byte reduction blocks.
        let long = [UInt8](repeating: 0xFF, count: 100_000)
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in long { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(ZlibAdler32.checksum(long), b << 16 | a)
    }
}
