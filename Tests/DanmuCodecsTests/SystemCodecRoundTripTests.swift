import Glibc
import TestSupport
import XCTest

@testable import DanmuCodecs

/// Our encoders checked by the reference decoders, and our decoders by the reference encoders: the system's
/// libz (`libz.so.1`, package zlib1g) and libbrotli (`libbrotlidec.so.1` / `libbrotlienc.so.1`, package
/// libbrotli1), opened with dlopen. A missing library is a FAILURE, not a skip: install them
/// (`apt-get install -y zlib1g libbrotli1`) wherever the tests run.
final class SystemCodecRoundTripTests: XCTestCase {
    // zlib.h: int uncompress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen);
    typealias Uncompress =
        @convention(c) (
            UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt
        ) -> Int32
    // zlib.h: int compress2(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen, int level);
    typealias Compress2 =
        @convention(c) (
            UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt, Int32
        ) -> Int32
    // decode.h: BrotliDecoderResult BrotliDecoderDecompress(size_t encoded_size, const uint8_t *encoded_buffer,
    //                                                       size_t *decoded_size, uint8_t *decoded_buffer);
    typealias BrotliDecompress =
        @convention(c) (
            Int, UnsafePointer<UInt8>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<UInt8>?
        ) -> Int32
    // encode.h: BROTLI_BOOL BrotliEncoderCompress(int quality, int lgwin, BrotliEncoderMode mode,
    //     size_t input_size, const uint8_t *input_buffer, size_t *encoded_size, uint8_t *encoded_buffer);
    typealias BrotliCompress =
        @convention(c) (
            Int32, Int32, Int32, Int, UnsafePointer<UInt8>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<UInt8>?
        ) -> Int32

    struct MissingLibrary: Error, CustomStringConvertible {
        var description: String
    }

    /// `symbol` from `library`; a library or symbol that cannot be loaded records a failure and throws.
    static func load<T>(
        _ library: String, _ symbol: String, as type: T.Type,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> T {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "?"
            XCTFail("cannot dlopen \(library) (\(why)): install zlib1g and libbrotli1", file: file, line: line)
            throw MissingLibrary(description: why)
        }
        guard let address = dlsym(handle, symbol) else {
            XCTFail("\(library) has no \(symbol)", file: file, line: line)
            throw MissingLibrary(description: symbol)
        }
        return unsafeBitCast(address, to: type)
    }

    /// Inputs of every shape: empty, one byte, long runs, incompressible bytes, the 65,535-byte stored-block
    /// boundary, real Bilibili bodies and the zlib fixtures' originals.
    func inputs() -> [(String, [UInt8])] {
        var random = SplitMixRandom(seed: 17)
        var list: [(String, [UInt8])] = [
            ("empty", []), ("one byte", [0x41]), ("text", Array("hello hello hello hello".utf8)),
            ("run of 100,000", [UInt8](repeating: 7, count: 100_000)),
            ("random 70,000", (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            ("65,535", (0..<65_535).map { UInt8(truncatingIfNeeded: $0 % 251) }),
            ("65,536", (0..<65_536).map { UInt8(truncatingIfNeeded: $0 % 253) }),
        ]
        let samples = TestFiles.repositoryRoot + "/Fixtures/samples"
        let names = TestFiles.list(samples).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThan(names.count, 40, "the committed samples")
        var all: [UInt8] = []
        for name in names {
            let body = TestFiles.mustRead(samples + "/" + name)
            list.append((name, body))
            all += body
        }
        list.append(("every sample concatenated", all))
        list += ZlibFixture.all.compactMap { fixture in fixture.original.map { (fixture.name, $0) } }.prefix(20)
        return list
    }

    /// `Zlib.compress` in both modes, decoded by libz's uncompress: the same bytes back, and Z_OK.
    func testOurZlibDecodesWithSystemLibz() throws {
        let uncompress = try Self.load("libz.so.1", "uncompress", as: Uncompress.self)
        var checked = 0
        for (name, input) in inputs() {
            for mode in [DeflateMode.stored, .fixedHuffman] {
                let stream = Zlib.compress(input, mode: mode)
                var output = [UInt8](repeating: 0, count: max(input.count, 1))
                var length = UInt(output.count)
                let status = stream.withUnsafeBufferPointer { source in
                    output.withUnsafeMutableBufferPointer { destination in
                        uncompress(destination.baseAddress, &length, source.baseAddress, UInt(source.count))
                    }
                }
                XCTAssertEqual(status, 0, "\(name) \(mode): libz uncompress returned \(status) (Z_OK is 0)")
                XCTAssertEqual(Array(output.prefix(Int(length))), input, "\(name) \(mode): different bytes")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// libz's compress2 at levels 0, 1, 6 and 9 decoded by our `Zlib.decompress`.
    func testSystemLibzDecodesWithOurInflater() throws {
        let compress2 = try Self.load("libz.so.1", "compress2", as: Compress2.self)
        for (name, input) in inputs() {
            for level: Int32 in [0, 1, 6, 9] {
                var stream = [UInt8](repeating: 0, count: input.count + input.count / 100 + 64)
                var length = UInt(stream.count)
                let status = input.withUnsafeBufferPointer { source in
                    stream.withUnsafeMutableBufferPointer { destination in
                        compress2(destination.baseAddress, &length, source.baseAddress, UInt(source.count), level)
                    }
                }
                XCTAssertEqual(status, 0, "\(name) level \(level): compress2 returned \(status)")
                XCTAssertEqual(try Zlib.decompress(Array(stream.prefix(Int(length)))), input, "\(name) level \(level)")
            }
        }
    }

    /// `Brotli.compressUncompressed` (what the simulator sends for brotli batches) decoded by libbrotlidec.
    func testOurBrotliDecodesWithSystemLibbrotlidec() throws {
        let decompress = try Self.load("libbrotlidec.so.1", "BrotliDecoderDecompress", as: BrotliDecompress.self)
        var checked = 0
        for (name, input) in inputs() {
            let stream = Brotli.compressUncompressed(input)
            var output = [UInt8](repeating: 0, count: input.count + 1)
            var length = output.count
            let result = stream.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { destination in
                    decompress(source.count, source.baseAddress, &length, destination.baseAddress)
                }
            }
            XCTAssertEqual(result, 1, "\(name): BrotliDecoderDecompress returned \(result) (SUCCESS is 1)")
            XCTAssertEqual(Array(output.prefix(length)), input, "\(name): different bytes")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// libbrotlienc at qualities 0, 5 and 11 (window 22, generic mode) decoded by our `Brotli.decompress`.
    func testSystemLibbrotliencDecodesWithOurDecoder() throws {
        let compress = try Self.load("libbrotlienc.so.1", "BrotliEncoderCompress", as: BrotliCompress.self)
        for (name, input) in inputs().prefix(30) {
            for quality: Int32 in [0, 5, 11] {
                var stream = [UInt8](repeating: 0, count: input.count + input.count / 8 + 1_024)
                var length = stream.count
                let ok = input.withUnsafeBufferPointer { source in
                    stream.withUnsafeMutableBufferPointer { destination in
                        compress(quality, 22, 0, source.count, source.baseAddress, &length, destination.baseAddress)
                    }
                }
                XCTAssertEqual(ok, 1, "\(name) quality \(quality): BrotliEncoderCompress failed")
                XCTAssertEqual(try Brotli.decompress(Array(stream.prefix(length))), input, "\(name) q\(quality)")
            }
        }
    }
}
