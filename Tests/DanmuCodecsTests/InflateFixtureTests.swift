import TestSupport
import XCTest
@testable import DanmuCodecs

/// One stream from Fixtures/generated/zlib (made by Scripts/gen_zlib_fixtures.py with Python's zlib).
struct ZlibFixture {
    var name: String
    var format: String
    var compressed: [UInt8]
    var originalLength: Int
    var original: [UInt8]?
    var sha256: String

    static let all: [ZlibFixture] = {
        guard let blob = TestFiles.read("Fixtures/generated/zlib/streams.bin"),
            let manifest = TestFiles.read("Fixtures/generated/zlib/manifest.txt")
        else { return [] }
        var fixtures: [ZlibFixture] = []
        for line in String(decoding: manifest, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 7, let co = Int(f[2]), let cl = Int(f[3]), let ol = Int(f[4]), let oo = Int(f[5]) else {
                continue
            }
            fixtures.append(
                ZlibFixture(
                    name: f[0], format: f[1], compressed: Array(blob[co..<co + cl]), originalLength: ol,
                    original: oo >= 0 ? Array(blob[oo..<oo + ol]) : nil, sha256: f[6]))
        }
        return fixtures
    }()

    var inflateFormat: InflateFormat { format == "raw" ? .raw : .zlib }

    func decodeOneShot(limit: Int = Zlib.defaultLimit) throws(InflateError) -> [UInt8] {
        format == "raw"
            ? try Deflate.decompress(compressed, limit: limit) : try Zlib.decompress(compressed, limit: limit)
    }

    func check(_ output: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(output.count, originalLength, name, file: file, line: line)
        if let original {
            XCTAssertTrue(output == original, "\(name): bytes differ", file: file, line: line)
        } else {
            XCTAssertEqual(TestSHA256.hex(output), sha256, name, file: file, line: line)
        }
    }
}

final class InflateFixtureTests: XCTestCase {
    func testManifestIsComplete() {
        let fixtures = ZlibFixture.all
        XCTAssertGreaterThanOrEqual(fixtures.count, 120)
        XCTAssertTrue(fixtures.contains { $0.format == "raw" })
        XCTAssertTrue(fixtures.contains { $0.format == "zlib-sync" })
        XCTAssertTrue(fixtures.contains { $0.originalLength >= 1 << 20 })
    }

    func testEveryGeneratedStreamDecodesByteExact() throws {
        for fixture in ZlibFixture.all {
            do {
                fixture.check(try fixture.decodeOneShot())
            } catch {
                XCTFail("\(fixture.name): \(error)")
            }
        }
    }

    func testStreamingInArbitraryChunksMatchesOneShot() {
        var rng = SplitMixRandom(seed: 7)
        for (index, fixture) in ZlibFixture.all.enumerated() {
            // Chunk sizes: 1 byte for small streams, otherwise random 1...2000 (and one big chunk for some).
            var inflater = Inflater(format: fixture.inflateFormat)
            var output: [UInt8] = []
            var position = 0
            do {
                while position < fixture.compressed.count {
                    let n: Int
                    if fixture.compressed.count < 3000 && index % 2 == 0 {
                        n = 1
                    } else {
                        n = Int(rng.next() % 2000) + 1
                    }
                    let end = min(fixture.compressed.count, position + n)
                    try inflater.feed(Array(fixture.compressed[position..<end]), into: &output)
                    position = end
                }
                try inflater.finish(into: &output)
                fixture.check(output)
                XCTAssertTrue(inflater.isFinished, fixture.name)
            } catch {
                XCTFail("\(fixture.name): \(error) at \(position)")
            }
        }
    }

    func testCapturedServerBatchesInflateToWholeInnerPackets() throws {
        let names = TestFiles.list("Fixtures/captures").filter { $0.contains("zlib") && $0.hasSuffix(".bin") }
        XCTAssertGreaterThanOrEqual(names.count, 6)
        for name in names {
            let packet = try XCTUnwrap(TestFiles.read("Fixtures/captures/" + name))
            XCTAssertEqual(packet[6...7], [0, 2], "\(name) is a ver 2 packet")
            let body = Array(packet[16...])
            let inflated = try Zlib.decompress(body)
            // Walk the inner packets by their length fields: they must tile the output exactly.
            var offset = 0
            var count = 0
            while offset < inflated.count {
                XCTAssertLessThanOrEqual(offset + 16, inflated.count, name)
                let length =
                    Int(inflated[offset]) << 24 | Int(inflated[offset + 1]) << 16
                    | Int(inflated[offset + 2]) << 8 | Int(inflated[offset + 3])
                XCTAssertGreaterThanOrEqual(length, 16, name)
                XCTAssertEqual(inflated[offset + 4...offset + 5], [0, 16], name)
                XCTAssertEqual(inflated[offset + 11], 5, "\(name): inner op 5")
                XCTAssertEqual(inflated[offset + 16], UInt8(ascii: "{"), "\(name): JSON body")
                offset += length
                count += 1
            }
            XCTAssertEqual(offset, inflated.count, "\(name): inner packets tile the output")
            if name.contains("8pkts") { XCTAssertEqual(count, 8) }
            // The streaming inflater agrees, fed byte by byte.
            var inflater = Inflater()
            var streamed: [UInt8] = []
            for byte in body { try inflater.feed([byte], into: &streamed) }
            try inflater.finish(into: &streamed)
            XCTAssertEqual(streamed, inflated, name)
        }
    }

    func testEverySplitPointOfACaptureGivesTheSameOutput() throws {
        let packet = try XCTUnwrap(TestFiles.read("Fixtures/captures/sunkey_2021-01_s2c_op5_ver2_zlib_8pkts.bin"))
        let body = Array(packet[16...])
        let expected = try Zlib.decompress(body)
        for split in 0...body.count {
            var inflater = Inflater()
            var output: [UInt8] = []
            try inflater.feed(Array(body[..<split]), into: &output)
            try inflater.feed(Array(body[split...]), into: &output)
            XCTAssertTrue(inflater.isFinished, "split \(split)")
            try inflater.finish(into: &output)
            XCTAssertEqual(output, expected, "split \(split)")
        }
    }

    func testCopiedInflaterContinuesIndependently() throws {
        let fixture = try XCTUnwrap(ZlibFixture.all.first { $0.name.hasPrefix("z-l6") && $0.originalLength > 10_000 })
        let half = fixture.compressed.count / 2
        var first = Inflater()
        var prefix: [UInt8] = []
        try first.feed(Array(fixture.compressed[..<half]), into: &prefix)
        var second = first  // value semantics: the copy has its own window, tables and pending bytes
        var outputA = prefix
        var outputB = prefix
        try first.feed(Array(fixture.compressed[half...]), into: &outputA)
        try first.finish(into: &outputA)
        XCTAssertFalse(second.isFinished)
        try second.feed(Array(fixture.compressed[half...]), into: &outputB)
        try second.finish(into: &outputB)
        fixture.check(outputA)
        fixture.check(outputB)
    }

    func testSyncFlushEndWithoutFinalBlockOrChecksum() throws {
        // A server-style body: everything up to and including 00 00 ff ff, nothing after.
        let fixtures = ZlibFixture.all.filter { $0.format == "zlib-sync" }
        XCTAssertFalse(fixtures.isEmpty)
        for fixture in fixtures {
            var body = fixture.compressed
            if fixture.name.hasSuffix("-adler") {
                // With the checksum: a wrong one is rejected.
                body[body.count - 1] ^= 1
                XCTAssertThrowsError(try Zlib.decompress(body)) { error in
                    XCTAssertEqual((error as? InflateError)?.reason, .checksumMismatch, fixture.name)
                }
                body.removeLast(4)
            }
            XCTAssertEqual(Array(body.suffix(4)), [0, 0, 0xFF, 0xFF])
            XCTAssertEqual(try Zlib.decompress(body), fixture.original, fixture.name)
        }
    }
}
