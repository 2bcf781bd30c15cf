import XCTest

@testable import DanmuCodecs

/// `JSONScanner.firstString(forKey:in:)` and the nested-document helpers on `JSONNode`.
final class JSONScannerTests: XCTestCase {
    private func scan(_ text: String, _ key: String = "cmd") -> String? {
        JSONScanner.firstString(forKey: key, in: Array(text.utf8))
    }

    func testFindsTopLevelStringAfterSkippingValues() {
        XCTAssertEqual(scan(#"{"cmd":"DANMU_MSG","info":[]}"#), "DANMU_MSG")
        XCTAssertEqual(
            scan(#" { "a" : {"cmd":"inner","x":[1,{"y":"]}"}]}, "b":"},\"", "n":-1.5e3,"t":true, "cmd" : "LIVE" } "#),
            "LIVE")
        XCTAssertEqual(scan(#"{"cmd":"中文"}"#), "中文")
        XCTAssertEqual(scan(#"{"cmd":""}"#), "")
    }

    func testFirstMatchWins() {
        XCTAssertEqual(scan(#"{"cmd":"A","cmd":"B"}"#), "A")
    }

    func testAbsentOrNotAString() {
        XCTAssertNil(scan(#"{"info":[]}"#))
        XCTAssertNil(scan(#"{"cmd":5}"#))
        XCTAssertNil(scan(#"{"cmd":null}"#))
        XCTAssertNil(scan(#"{}"#))
        XCTAssertNil(scan(#"["cmd","x"]"#))
        XCTAssertNil(scan(""))
        XCTAssertNil(scan(#"{"a":[1,2}"#), "malformed: falls back to the strict parser, which rejects it")
    }

    func testEscapesFallBackToTheStrictParser() {
        XCTAssertEqual(scan(#"{"c\u006dd":"X"}"#), "X")
        XCTAssertEqual(scan(#"{"cmd":"a\"b\u00e9"}"#), "a\"bé")
        XCTAssertNil(scan(#"{"cmd":"a\qb"}"#), "invalid escape: strict parse fails")
        XCTAssertNil(
            JSONScanner.firstString(
                forKey: "cmd", in: [0x7B, 0x22, 0x63, 0x6D, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]),
            "invalid UTF-8 in the value")
    }

    func testStringBytesAndNestedDocuments() throws {
        let doc = try JSONDocument(parsing: #"{"extra":"{\"id_str\":\"abc\",\"n\":1}","plain":"x","num":1}"#)
        XCTAssertEqual(doc.root["plain"]?.stringBytes, [0x78])
        XCTAssertEqual(doc.root["extra"]?.stringBytes, Array(#"{"id_str":"abc","n":1}"#.utf8))
        XCTAssertNil(doc.root["num"]?.stringBytes)
        let extra = try XCTUnwrap(try doc.root["extra"]?.parseStringAsJSON())
        XCTAssertEqual(extra.root["id_str"]?.string, "abc")
        XCTAssertEqual(extra.root["n"]?.int64, 1)
        XCTAssertNil(try doc.root["num"]?.parseStringAsJSON())
        XCTAssertThrowsError(try doc.root["plain"]?.parseStringAsJSON()) { error in
            XCTAssertEqual(error as? JSONError, JSONError(offset: 0, reason: .unexpectedByte(0x78)))
        }
    }
}
