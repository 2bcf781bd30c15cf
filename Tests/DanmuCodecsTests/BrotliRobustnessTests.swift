import TestSupport
import XCTest

@testable import DanmuCodecs

/// Hostile and broken input: every failure is a thrown `BrotliError`, never a trap, hang or huge allocation.
final class BrotliRobustnessTests: XCTestCase {
    private var smallStreams: [BrotliTestFiles.Stream] {
        BrotliTestFiles.generated.filter { $0.compressed.count <= 1200 && $0.length <= 65536 }
    }

    func testEmptyInputIsTruncated() {
        XCTAssertThrowsError(try Brotli.decompress([])) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .truncated)
        }
    }

    func testEveryTruncationOfSmallStreamsThrows() {
        var checked = 0
        for stream in smallStreams {
            // Every cut of the smallest streams, every 7th of the others (keeps the debug-build test short).
            for cut in stride(from: 0, to: stream.compressed.count, by: stream.compressed.count <= 400 ? 1 : 7) {
                do {
                    let output = try Brotli.decompress(Array(stream.compressed[0..<cut]))
                    XCTFail("\(stream.name) cut at \(cut) decoded \(output.count) bytes")
                } catch {
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 5_000)
    }

    func testRandomBitFlipsThrowOrDecodeWithinTheLimit() {
        var random = SplitMixRandom(seed: 0xB207_11)
        var failures = 0
        var decodes = 0
        for stream in BrotliTestFiles.generated where stream.compressed.count > 0 {
            let flips = stream.compressed.count > 20_000 ? 4 : 40
            for _ in 0..<flips {
                var corrupted = stream.compressed
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let bit = Int(random.next() % UInt64(corrupted.count * 8))
                    corrupted[bit / 8] ^= UInt8(1 << (bit % 8))
                }
                let limit = 2 << 20
                do {
                    let output = try Brotli.decompress(corrupted, limit: limit)
                    XCTAssertLessThanOrEqual(output.count, limit)
                    decodes += 1
                } catch {
                    failures += 1
                }
            }
        }
        XCTAssertGreaterThan(failures, 1000)
        _ = decodes  // some flips (e.g. in literals of uncompressed meta-blocks) keep the stream valid
    }

    func testBombStopsAtTheDefaultCap() throws {
        let bomb = try XCTUnwrap(BrotliTestFiles.generated.first { $0.name.contains("bomb") })
        XCTAssertLessThan(bomb.compressed.count, 100)
        XCTAssertThrowsError(try Brotli.decompress(bomb.compressed)) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .outputLimitExceeded(limit: 16 << 20))
        }
    }

    func testLimitIsExactAndCheckedBeforeDecoding() throws {
        let stream = try XCTUnwrap(BrotliTestFiles.generated.first { $0.length == 1 << 20 })
        XCTAssertEqual(try Brotli.decompress(stream.compressed, limit: stream.length).count, stream.length)
        XCTAssertThrowsError(try Brotli.decompress(stream.compressed, limit: stream.length - 1)) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .outputLimitExceeded(limit: stream.length - 1))
        }
        XCTAssertThrowsError(try Brotli.decompress(stream.compressed, limit: 0))
    }

    func testLargeWindowStreamIsRejectedClearly() {
        // 0x11: WBITS code "1 000 100" is the large-window marker of brotli's non-standard extension.
        XCTAssertThrowsError(try Brotli.decompress([0x11, 0x40, 0x00, 0x00])) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .largeWindowUnsupported)
            XCTAssert("\(error)".contains("large-window"))
        }
    }

    func testTrailingBytesAfterTheLastMetaBlockAreRejected() {
        let stream = Brotli.compressUncompressed(Array("hello".utf8))
        XCTAssertThrowsError(try Brotli.decompress(stream + [0])) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .trailingData)
        }
    }

    func testNonZeroPaddingIsRejected() {
        var stream = Brotli.compressUncompressed(Array("hello".utf8))
        stream[stream.count - 1] |= 0x80  // the last byte is ISLAST, ISLASTEMPTY and six padding bits
        XCTAssertThrowsError(try Brotli.decompress(stream)) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .nonZeroPadding)
        }
    }

    func testExuberantNibbleIsRejected() {
        // ISLAST=0, MNIBBLES=5 with a zero top nibble: the length fits in 4 nibbles, so the header is invalid.
        var writer = BrotliBitWriter()
        writer.write(0, bits: 1)  // WBITS 16
        writer.write(0, bits: 1)
        writer.write(1, bits: 2)
        writer.write(4, bits: 20)
        writer.write(1, bits: 1)
        writer.alignToByte()
        XCTAssertThrowsError(try Brotli.decompress(writer.bytes + Array("hello".utf8) + [3])) { error in
            XCTAssertEqual((error as? BrotliError)?.reason, .invalidMetaBlockHeader)
        }
    }

    func testErrorDescriptionNamesTheProblemAndOffset() {
        let error = BrotliError(.outputLimitExceeded(limit: 10), byteOffset: 3)
        XCTAssertEqual(
            error.description, "brotli: decompressed output would exceed the limit of 10 bytes (at input byte 3)")
    }
}
