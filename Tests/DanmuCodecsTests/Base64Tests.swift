import TestSupport
import XCTest
@testable import DanmuCodecs

final class Base64Tests: XCTestCase {
    /// Vectors from Python's base64.b64encode (random bytes, seed 5).
    private let vectors: [(hex: String, text: String)] = [
        ("", ""), ("9f", "nw=="), ("41bd", "Qb0="), ("5bcbb0", "W8uw"), ("f1d7bda6", "8de9pg=="),
        ("ec8707d777", "7IcH13c="),
        (
            "c6f13fa60de6281c5f78de3f618b1a923f03bb3768472eeadec46328c3cc12",
            "xvE/pg3mKBxfeN4/YYsakj8DuzdoRy7q3sRjKMPMEg=="
        ),
    ]

    func testPythonVectorsBothWays() throws {
        for (h, text) in vectors {
            XCTAssertEqual(Base64.encode(Hex.decode(h)), text)
            XCTAssertEqual(try Base64.decode(text), Hex.decode(h), text)
            // Missing padding is accepted too.
            let unpadded = String(text.prefix { $0 != "=" })
            XCTAssertEqual(try Base64.decode(unpadded), Hex.decode(h), unpadded)
        }
    }

    func testRoundTripAllLengths() throws {
        var rng = SplitMixRandom(seed: 9)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            XCTAssertEqual(try Base64.decode(Base64.encode(bytes)), bytes)
        }
    }

    func testRejectsGarbage() {
        func reason(_ s: String) -> Base64Error.Reason? {
            do { _ = try Base64.decode(s); return nil } catch { return error.reason }
        }
        XCTAssertEqual(reason("QUJD!"), .invalidCharacter)
        XCTAssertEqual(reason("QU JD"), .invalidCharacter)
        XCTAssertEqual(reason("QUJD\n"), .invalidCharacter)
        XCTAssertEqual(reason("-_-_"), .invalidCharacter)  // URL-safe alphabet is not accepted
        XCTAssertEqual(reason("Q"), .invalidLength)
        XCTAssertEqual(reason("QUJDR"), .invalidLength)
        XCTAssertEqual(reason("QQ="), .invalidPadding)
        XCTAssertEqual(reason("Q=Q="), .invalidPadding)
        XCTAssertEqual(reason("===="), .invalidPadding)
        XCTAssertEqual(reason("QUJD===="), .invalidPadding)
        XCTAssertEqual(reason("QUI=="), .invalidPadding)
        XCTAssertEqual(reason("QQ=="), nil)
        XCTAssertThrowsError(try Base64.decode([0xE5, 0x88, 0x98, 0x41])) { error in
            XCTAssertEqual(error as? Base64Error, Base64Error(.invalidCharacter, offset: 0))
        }
    }
}
