import Glibc
import TestSupport
import XCTest

@testable import DanmuCodecs

final class SHA1Tests: XCTestCase {
    /// FIPS 180-4 examples (NIST "SHA1.pdf" / RFC 3174 §7.3).
    func testPublishedVectors() {
        XCTAssertEqual(Hex.encode(SHA1.digest([UInt8]())), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(Hex.encode(SHA1.digest(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(
            Hex.encode(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(
            Hex.encode(SHA1.digest([UInt8](repeating: 0x61, count: 1_000_000))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// RFC 6455 §1.3: the accept value for the sample nonce.
    func testWebSocketAcceptKeyExample() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let digest = SHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        XCTAssertEqual(Base64.encode(digest), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    /// Incremental updates in every split agree with the one-piece digest (the padding crosses block edges).
    func testSplitUpdatesMatchOnePiece() {
        var random = SplitMixRandom(seed: 15)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let whole = SHA1.digest(bytes)
            for cut in Set([0, length / 3, length / 2, length]) {
                var hasher = SHA1()
                hasher.update(bytes[..<cut])
                hasher.update(bytes[cut...])
                XCTAssertEqual(hasher.finalize(), whole, "length \(length) cut \(cut)")
            }
        }
    }

    /// Random inputs of many lengths against Python's hashlib.sha1 (run at test time).
    func testRandomInputsAgainstPythonHashlib() throws {
        var random = SplitMixRandom(seed: 6455)
        let inputs: [[UInt8]] = (0..<200).map { i in
            let length = i < 130 ? i : Int.random(in: 0...5000, using: &random)
            return (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        let directory = try TemporaryDirectory(prefix: "danmu-sha1")
        defer { directory.remove() }
        let path = directory.file("inputs.hex")
        let text = inputs.map { Hex.encode($0) }.joined(separator: "\n") + "\n"
        guard let file = fopen(path, "w") else { return XCTFail("cannot write \(path)") }
        fputs(text, file)
        fclose(file)
        let script =
            "import hashlib,sys\nfor l in open(sys.argv[1]): print(hashlib.sha1(bytes.fromhex(l.strip())).hexdigest())"
        let output = try runCommand(["timeout", "60", "python3", "-c", script, path])
        let expected = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, inputs.count)
        for (input, digest) in zip(inputs, expected) {
            XCTAssertEqual(Hex.encode(SHA1.digest(input)), digest, "length \(input.count)")
        }
    }
}

/// Runs `arguments` (looked up in PATH) and returns its standard output; throws when it cannot start or fails.
private func runCommand(_ arguments: [String]) throws -> String {
    struct CommandFailed: Error { var status: Int32 }
    let quoted = arguments.map {
        "'" + $0.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }.joined(separator: " ")
    guard let pipe = popen(quoted, "r") else { throw CommandFailed(status: -1) }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, pipe)
        if count <= 0 { break }
        output += buffer[..<count]
    }
    let status = pclose(pipe)
    if status != 0 { throw CommandFailed(status: status) }
    return String(decoding: output, as: UTF8.self)
}
