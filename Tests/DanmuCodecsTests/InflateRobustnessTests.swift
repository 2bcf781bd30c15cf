import TestSupport
import XCTest
@testable import DanmuCodecs

/// Bad input must give a thrown `InflateError` (or, when a corruption happens to stay valid, a result) — never a
/// crash, a hang, or output over the limit.
final class InflateRobustnessTests: XCTestCase {
    private var smallStreams: [ZlibFixture] {
        ZlibFixture.all.filter { $0.compressed.count <= 700 }
    }

    private var capturedBodies: [[UInt8]] {
        TestFiles.list("Fixtures/captures").filter { $0.contains("zlib") && $0.hasSuffix(".bin") }
            .compactMap { TestFiles.read("Fixtures/captures/" + $0).map { Array($0[16...]) } }
    }

    func testEveryTruncationPointThrowsOrEndsAtASyncPoint() {
        var checked = 0
        for fixture in smallStreams {
            for cut in 0..<fixture.compressed.count {
                let prefix = Array(fixture.compressed[..<cut])
                do {
                    let output = try fixture.decodeOneShot()
                    _ = output
                    let partial =
                        fixture.format == "raw"
                        ? try Deflate.decompress(prefix) : try Zlib.decompress(prefix)
                    // Only a prefix ending exactly at a sync flush may decode; its output is a prefix of the whole.
                    XCTAssertEqual(Array(prefix.suffix(4)), [0, 0, 0xFF, 0xFF], "\(fixture.name) cut \(cut)")
                    XCTAssertEqual(partial, Array(output.prefix(partial.count)), fixture.name)
                } catch {
                    // After a sync point the rest of a cut stream (e.g. part of the Adler-32) is read as a new
                    // block or a checksum, so other errors are right there; everywhere else it must be .truncated.
                    if fixture.format != "zlib-sync" {
                        XCTAssertEqual(error.reason, .truncated, "\(fixture.name) cut \(cut): \(error)")
                    }
                }
                checked += 1
            }
        }
        for body in capturedBodies {
            for cut in 0..<body.count {
                XCTAssertThrowsError(try Zlib.decompress(Array(body[..<cut])), "capture cut at \(cut)")
            }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    func testTruncatedStreamingInputIsReportedByFinish() throws {
        let body = try XCTUnwrap(capturedBodies.first)
        var inflater = Inflater()
        var output: [UInt8] = []
        try inflater.feed(Array(body.dropLast(10)), into: &output)
        XCTAssertFalse(inflater.isFinished)
        XCTAssertThrowsError(try inflater.finish(into: &output)) { error in
            XCTAssertEqual((error as? InflateError)?.reason, .truncated)
        }
    }

    func testRandomBitFlipsNeverCrashOrExceedTheLimit() {
        var rng = SplitMixRandom(seed: 1234)
        var failures = 0
        var survivors = 0
        let inputs =
            ZlibFixture.all.map { ($0.compressed, $0.format == "raw", $0.originalLength) }
            + capturedBodies.map { ($0, false, 0) }
        for (compressed, isRaw, originalLength) in inputs where !compressed.isEmpty {
            // Bigger streams get fewer flips to keep the test quick in debug builds.
            let flips = compressed.count > 100_000 ? 2 : compressed.count > 10_000 ? 6 : 25
            let limit = max(originalLength * 2, 1 << 16)
            for _ in 0..<flips {
                var corrupt = compressed
                let bit = Int(rng.next() % UInt64(corrupt.count * 8))
                corrupt[bit / 8] ^= 1 << UInt8(bit % 8)
                do {
                    let output =
                        isRaw
                        ? try Deflate.decompress(corrupt, limit: limit)
                        : try Zlib.decompress(corrupt, limit: limit)
                    XCTAssertLessThanOrEqual(output.count, limit)
                    survivors += 1
                } catch {
                    failures += 1
                }
            }
        }
        // Adler-32 catches nearly every flip of a zlib stream; raw and stored data may survive.
        XCTAssertGreaterThan(failures, survivors)
    }

    func testDecompressionBombHitsTheLimit() throws {
        let bomb = try XCTUnwrap(TestFiles.read("Fixtures/generated/zlib/bomb-1GiB-zeros.zlib"))
        XCTAssertLessThan(bomb.count, 2 << 20)
        XCTAssertThrowsError(try Zlib.decompress(bomb)) { error in
            XCTAssertEqual(error as? InflateError, .outputLimitExceeded)
        }
        XCTAssertThrowsError(try Zlib.decompress(bomb, limit: 1000)) { error in
            XCTAssertEqual(error as? InflateError, .outputLimitExceeded)
        }
        var inflater = Inflater(limit: 3 << 20)
        var output: [UInt8] = []
        XCTAssertThrowsError(try inflater.feed(bomb, into: &output)) { error in
            XCTAssertEqual(error as? InflateError, .outputLimitExceeded)
        }
        XCTAssertLessThanOrEqual(output.count, 3 << 20)
        // The inflater stays failed.
        XCTAssertThrowsError(try inflater.feed([0], into: &output))
    }

    func testLimitIsExact() throws {
        let data = [UInt8](repeating: 42, count: 5000) + Array("tail".utf8)
        for mode in [DeflateMode.stored, .fixedHuffman] {
            let stream = Zlib.compress(data, mode: mode)
            XCTAssertEqual(try Zlib.decompress(stream, limit: data.count), data)
            XCTAssertThrowsError(try Zlib.decompress(stream, limit: data.count - 1)) { error in
                XCTAssertEqual(error as? InflateError, .outputLimitExceeded)
            }
        }
    }

    func testHandMadeInvalidStreamsGiveSpecificErrors() {
        func reason(_ bytes: [UInt8], raw: Bool = false) -> InflateError.Reason? {
            do {
                _ = raw ? try Deflate.decompress(bytes) : try Zlib.decompress(bytes)
                return nil
            } catch {
                return error.reason
            }
        }
        XCTAssertEqual(reason([0x78, 0x9D, 0x03, 0x00]), .badZlibHeader)  // FCHECK wrong
        XCTAssertEqual(reason([0x79, 0x9C]), .badZlibHeader)  // method 9
        XCTAssertEqual(reason([0x78, 0xBB, 0, 0, 0, 0]), .presetDictionaryUnsupported)
        XCTAssertEqual(reason([0x07], raw: true), .invalidBlockType)  // BFINAL + BTYPE 11
        XCTAssertEqual(reason([0x01, 0x05, 0x00, 0x00, 0x00], raw: true), .storedLengthMismatch)
        XCTAssertEqual(reason([0x03, 0x00, 0x00], raw: true), .trailingData)
        XCTAssertEqual(reason([0x03, 0x00], raw: true), nil)  // empty final fixed block
        XCTAssertEqual(reason([0x78, 0x9C, 0x03, 0x00, 0, 0, 0, 2]), .checksumMismatch)
        XCTAssertEqual(reason([0x78, 0x9C, 0x03, 0x00, 0, 0, 0, 1]), nil)
        // Fixed block: literal 'a' then length 3 at distance 2 (only one byte of history).
        // Bits: 1 (final), 01 (fixed); 'a' = 0x91 (8 bits), len 3 = 0000001 (7), dist code 1 = 00001 (5), EOB.
        var writer = TestBitWriter()
        writer.write(1, 1); writer.write(1, 2)
        writer.writeCode(0x30 + 0x61, 8)
        writer.writeCode(1, 7)
        writer.writeCode(1, 5)
        writer.writeCode(0, 7)
        XCTAssertEqual(reason(writer.bytes, raw: true), .distanceTooFarBack)
        // Reserved lit/len symbol 286 in a fixed block.
        var reserved = TestBitWriter()
        reserved.write(1, 1); reserved.write(1, 2)
        reserved.writeCode(0xC0 + 6, 8)
        reserved.writeCode(0, 7)
        XCTAssertEqual(reason(reserved.bytes, raw: true), .invalidSymbol)
        // Dynamic header declaring 287 lit/len codes (HLIT = 30).
        var dynamic = TestBitWriter()
        dynamic.write(1, 1); dynamic.write(2, 2); dynamic.write(30, 5); dynamic.write(0, 5); dynamic.write(0, 4)
        dynamic.write(0, 16)
        XCTAssertEqual(reason(dynamic.bytes, raw: true), .invalidCodeLengths)
    }
}

/// LSB-first bit writer for hand-made streams; `writeCode` writes a Huffman code MSB-first.
struct TestBitWriter {
    var bytes: [UInt8] = []
    var bitCount = 0

    mutating func write(_ value: Int, _ width: Int) {
        for i in 0..<width {
            if bitCount % 8 == 0 { bytes.append(0) }
            if value >> i & 1 == 1 { bytes[bytes.count - 1] |= 1 << UInt8(bitCount % 8) }
            bitCount += 1
        }
    }

    mutating func writeCode(_ code: Int, _ width: Int) {
        for i in stride(from: width - 1, through: 0, by: -1) { write(code >> i & 1, 1) }
    }
}
