import XCTest

@testable import DanmuPipeline

/// SipHash-2-4 against published vectors, CRC32 against its check value and zlib's.
final class HashTests: XCTestCase {
    let key: [UInt8] = Array(0..<16)

    /// Aumasson & Bernstein, "SipHash: a fast short-input PRF" (2012), Appendix A: key 00…0f, message 00…0e
    /// (15 bytes) → 0xa129ca6149be45e5.
    func testSipHashPaperAppendixVector() {
        XCTAssertEqual(SipHash24(key: key).hash(Array(0..<15)), 0xa129_ca61_49be_45e5)
    }

    /// The reference implementation's vectors.h (veorq/SipHash), `vectors_sip64`: entries 0 (empty message),
    /// 1 (00) and 8 (00…07, one whole block and an empty tail), written there as little-endian bytes.
    func testSipHashReferenceVectors() {
        let hasher = SipHash24(key: key)
        XCTAssertEqual(hasher.hash([]), 0x726f_db47_dd0e_0e31)
        XCTAssertEqual(hasher.hash([0]), 0x74f8_39c5_93dc_67fd)
        XCTAssertEqual(hasher.hash(Array(0..<8)), 0x93f5_f579_9a93_2462)
    }

    /// "123456789" → 0xCBF43926 (the catalogue check value); 00…ff → 0x29058c73 (Python `zlib.crc32`).
    func testCRC32CheckValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum((0...255).map { UInt8($0) }), 0x2905_8c73)
    }
}
