import Glibc
import TestSupport
import XCTest

@testable import DanmuCodecs

/// The committed brotli fixture streams (read with TestSupport's `TestFiles`).
enum BrotliTestFiles {
    struct Stream {
        var name: String
        var compressed: [UInt8]
        var original: [UInt8]?  // committed only for small streams
        var length: Int
        var sha256: String
    }

    /// Every stream listed in Fixtures/generated/brotli/manifest.tsv.
    static let generated: [Stream] = {
        let directory = TestFiles.repositoryRoot + "/Fixtures/generated/brotli/"
        guard let manifest = TestFiles.read(directory + "manifest.tsv") else { return [] }
        var streams: [Stream] = []
        for line in String(decoding: manifest, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 6, let length = Int(fields[4]),
                let compressed = TestFiles.read(directory + fields[0] + ".br")
            else { continue }
            streams.append(
                Stream(
                    name: fields[0], compressed: compressed, original: TestFiles.read(directory + fields[0] + ".raw"),
                    length: length, sha256: fields[5]))
        }
        return streams
    }()
}

final class BrotliFixtureTests: XCTestCase {
    func testManifestIsComplete() {
        XCTAssertGreaterThanOrEqual(BrotliTestFiles.generated.count, 120)
        for stream in BrotliTestFiles.generated where stream.length <= 65536 {
            XCTAssertNotNil(stream.original, "\(stream.name): small stream without its .raw original")
        }
    }

    func testEveryReferenceStreamDecodesByteExact() throws {
        for stream in BrotliTestFiles.generated {
            let output: [UInt8]
            do {
                output = try Brotli.decompress(stream.compressed, limit: max(16 << 20, stream.length))
            } catch {
                XCTFail("\(stream.name): \(error)")
                continue
            }
            XCTAssertEqual(output.count, stream.length, stream.name)
            if let original = stream.original {
                XCTAssert(output == original, "\(stream.name): decoded bytes differ")
            } else {
                XCTAssertEqual(TestSHA256.hex(output), stream.sha256, stream.name)
            }
        }
    }

    func testSHA256HelperMatchesKnownDigests() {
        XCTAssertEqual(TestSHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            TestSHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Real protover-3 packets: the body after the 16-byte header is one brotli stream holding whole packets.
    func testEveryBrotliCaptureDecodesIntoWholeInnerPackets() throws {
        let directory = TestFiles.repositoryRoot + "/Fixtures/captures/"
        let captures = TestFiles.list(directory).filter { $0.contains("_ver3_brotli_") && $0.hasSuffix(".bin") }
        XCTAssertGreaterThanOrEqual(captures.count, 6)
        for name in captures {
            let packet = try XCTUnwrap(TestFiles.read(directory + name))
            XCTAssertGreaterThan(packet.count, 16, name)
            XCTAssertEqual(Int(packet[6]) << 8 | Int(packet[7]), 3, "\(name): protover")
            let inner = try Brotli.decompress(Array(packet[16...]))
            var offset = 0
            var packets = 0
            while offset < inner.count {
                XCTAssertLessThanOrEqual(offset + 16, inner.count, "\(name): partial inner header")
                guard offset + 16 <= inner.count else { break }
                let length = inner[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
                XCTAssertGreaterThanOrEqual(length, 16, name)
                XCTAssertLessThanOrEqual(offset + length, inner.count, "\(name): partial inner packet")
                XCTAssertEqual(inner[offset + 16], UInt8(ascii: "{"), "\(name): inner body is not JSON")
                offset += max(length, 16)
                packets += 1
            }
            XCTAssertEqual(offset, inner.count, name)
            XCTAssertGreaterThanOrEqual(packets, 1, name)
            // The command named in the file name appears in the decoded JSON.
            let stem = String(name.dropLast(".bin".count))
            let afterBrotli = stem[stem.range(of: "_brotli_")!.upperBound...]
            // "LIVE_a" → "LIVE": drop one-letter variant suffixes.
            var cmd = String(afterBrotli)
            if cmd.count > 2 && cmd.dropLast().hasSuffix("_") { cmd = String(cmd.dropLast(2)) }
            XCTAssert(String(decoding: inner, as: UTF8.self).contains("\"\(cmd)"), "\(name): no \(cmd)")
        }
    }
}
