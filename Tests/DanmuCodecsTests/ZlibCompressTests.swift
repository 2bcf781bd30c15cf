import TestSupport
import XCTest
@testable import DanmuCodecs

final class ZlibCompressTests: XCTestCase {
    private func inputs() -> [[UInt8]] {
        var rng = SplitMixRandom(seed: 3)
        var list: [[UInt8]] = [
            [], [0], Array("a".utf8), Array(repeating: 7, count: 100_000),
            (0..<70_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
        ]
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
        XCTAssertEqual(
            Array(stream.suffix(4)),
            [
                UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF),
                UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF),
            ])
    }

    func testFixedHuffmanCompressesRepetitiveDanmaku() throws {
        let fixture = try XCTUnwrap(ZlibFixture.all.first { $0.name.contains("danmaku") && $0.originalLength > 5000 })
        let original = try XCTUnwrap(fixture.original)
        let compressed = Zlib.compress(original, mode: .fixedHuffman)
        XCTAssertLessThan(compressed.count, original.count / 2, "LZ77 finds the repeated keys")
        XCTAssertEqual(
            Zlib.compress(original, mode: .stored).count, original.count + 2 + 4 + 5 * (original.count / 65_535 + 1))
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

    /// The eight-bytes-at-a-time sums (issue 11) against the byte-serial definition, at every length around the
    /// 8-byte groups and the 5552-byte blocks, from several starting values (updates in pieces), on random bytes
    /// and on all-0xFF (the largest sums).
    func testAdler32MatchesTheByteSerialDefinition() {
        func reference(_ bytes: ArraySlice<UInt8>, from start: UInt32) -> UInt32 {
            var a = start & 0xFFFF, b = start >> 16
            for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
            return b << 16 | a
        }
        var rng = SplitMixRandom(seed: 11)
        let random = (0..<30_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let full = [UInt8](repeating: 0xFF, count: 30_000)
        let lengths = Array(0..<40) + [5551, 5552, 5553, 5559, 5560, 11_104, 11_111, 29_999]
        for input in [random, full] {
            for length in lengths {
                XCTAssertEqual(ZlibAdler32.checksum(Array(input[..<length])), reference(input[..<length], from: 1))
                // In two pieces: the second update starts from a running value.
                var adler = ZlibAdler32()
                let cut = length / 3
                adler.update(Array(input[..<cut]))
                adler.update(Array(input[cut..<length]))
                XCTAssertEqual(adler.value, reference(input[..<length], from: 1), "cut at \(cut) of \(length)")
            }
        }
    }

    // MARK: - Match finder (bounded chains, nice length, skipped insertions, 8-byte compares)

    /// Ten near-identical danmaku packets, as the simulator batches them: every position matches the copy
    /// before it for hundreds of bytes (longer than `maxInsertLength`, up to the 258 cap).
    private func simulatorLikeBatch(first seq: Int) -> [UInt8] {
        var batch: [UInt8] = []
        for n in seq..<seq + 10 {
            let body =
                #"{"cmd":"DANMU_MSG","info":[[0,1,25,16777215,1700000000\#(n),0,0,"","#
                + #"{"mode":0,"id_str":"sim-42-\#(n)-17000000\#(n * 7919)"}],""# + "#\(n) "
                + String(repeating: "弹幕", count: n % 5 + 1) + #"",[1,"user\#(n % 3)",0,0,0,10000,1,""],"#
                + #"[5,"medal","anchor",42,6067854,"",0],[12,0,6406234,"\u003e50000",0],[""]]}"#
            let bytes = Array(body.utf8)
            let length = UInt32(16 + bytes.count)
            batch += [
                UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
                UInt8(length & 0xFF), 0, 16, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0,
            ]
            batch += bytes
        }
        return batch
    }

    func testSimulatorBatchesRoundTripAndStillCompress() throws {
        for seq in [1, 97, 1_000_003] {
            let batch = simulatorLikeBatch(first: seq)
            let compressed = Zlib.compress(batch, mode: .fixedHuffman)
            XCTAssertEqual(try Zlib.decompress(compressed), batch, "seq \(seq)")
            // Bounded effort must not mean no effort: nine of the ten messages are almost all back-references.
            XCTAssertLessThan(compressed.count, batch.count / 4, "seq \(seq): \(compressed.count) of \(batch.count)")
        }
    }

    /// Lengths around the 8-byte compare steps, the 258 cap and `maxInsertLength`, and periods that make a
    /// match overlap its own output.
    func testMatchLengthBoundariesRoundTrip() throws {
        var rng = SplitMixRandom(seed: 11)
        for period in [1, 2, 3, 7, 8, 9, 15, 16, 17, 255, 258, 259] {
            let unit = (0..<period).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for count in [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 18, 19, 63, 64, 65, 257, 258, 259, 260, 517, 1_000] {
                let input = (0..<count).map { unit[$0 % period] }
                let compressed = Zlib.compress(input, mode: .fixedHuffman)
                XCTAssertEqual(try Zlib.decompress(compressed), input, "period \(period) count \(count)")
            }
        }
    }

    /// Inputs past the 32 KiB window: chain slots are reused, and a repeat at exactly 32,768 bytes is the
    /// farthest reachable one while 32,769 is out of reach.
    func testRepeatsAcrossTheWindowEdgeRoundTrip() throws {
        var rng = SplitMixRandom(seed: 12)
        let block = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for gap in [32_768 - 300, 32_769 - 300, 40_000] {
            var input = block
            input += (0..<gap).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            input += block
            input += (0..<5_000).flatMap { _ in block.prefix(Int(rng.next() % 40) + 3) }
            let compressed = Zlib.compress(input, mode: .fixedHuffman)
            XCTAssertEqual(try Zlib.decompress(compressed), input, "gap \(gap)")
            let raw = Deflate.compress(input, mode: .fixedHuffman)
            XCTAssertEqual(try Deflate.decompress(raw), input, "raw gap \(gap)")
        }
    }
}
