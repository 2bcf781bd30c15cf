import XCTest

@testable import DanmuCodecs

/// Navigation, accessors and policies of `JSONDocument` / `JSONNode`.
final class JSONDocumentTests: XCTestCase {
    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONDocument {
        try JSONDocument(parsing: Array(text.utf8), maxDepth: maxDepth)
    }

    private func error(_ text: String, maxDepth: Int = 64) -> JSONError? {
        error(Array(text.utf8), maxDepth: maxDepth)
    }

    private func error(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONError? {
        do {
            _ = try JSONDocument(parsing: bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    func testNavigatesDanmakuShape() throws {
        let doc = try parse(#"{"cmd":"DANMU_MSG","info":[[0,1,25,16777215,1710916697432],"hello",[42,"name"]]}"#)
        XCTAssertEqual(doc.root.kind, .object)
        XCTAssertEqual(doc.root.count, 2)
        XCTAssertEqual(doc.root["cmd"]?.string, "DANMU_MSG")
        XCTAssertEqual(doc.root["info"]?[0]?[4]?.int64, 1_710_916_697_432)
        XCTAssertEqual(doc.root["info"]?[1]?.string, "hello")
        XCTAssertEqual(doc.root["info"]?[2]?[0]?.int64, 42)
        XCTAssertEqual(doc.root["info"]?[2]?[1]?.string, "name")
        XCTAssertNil(doc.root["info"]?[3])
        XCTAssertNil(doc.root["info"]?[-1])
        XCTAssertNil(doc.root["missing"])
        XCTAssertNil(doc.root["cmd"]?["x"], "subscript by key on a string is nil")
        XCTAssertNil(doc.root[0], "subscript by index on an object is nil")
        XCTAssertEqual(doc.root["info"]?.elements.map { $0.kind }, [.array, .string, .array])
        XCTAssertEqual(doc.root.members.map { $0.key }, ["cmd", "info"])
    }

    func testScalarsAndKinds() throws {
        let doc = try parse(#"[null, true, false, 0, -0, 1.5, "s", {}, []]"#)
        let e = Array(doc.root.elements)
        XCTAssertEqual(e.map(\.kind), [.null, .bool, .bool, .number, .number, .number, .string, .object, .array])
        XCTAssertTrue(e[0].isNull)
        XCTAssertFalse(e[1].isNull)
        XCTAssertEqual(e[1].bool, true)
        XCTAssertEqual(e[2].bool, false)
        XCTAssertNil(e[3].bool)
        XCTAssertEqual(e[3].int64, 0)
        XCTAssertEqual(e[4].int64, 0)
        XCTAssertEqual(e[5].double, 1.5)
        XCTAssertNil(e[5].int64, "a literal with a fraction is not an Int64")
        XCTAssertNil(e[6].int64)
        XCTAssertEqual(e[7].count, 0)
        XCTAssertEqual(e[8].count, 0)
        XCTAssertEqual(Array(e[8].elements).count, 0)
        XCTAssertEqual(doc.root.count, 9)
    }

    func testInt64ExactAndOverflow() throws {
        let doc = try parse(
            "[9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 12345678901234567890123]"
        )
        let e = Array(doc.root.elements)
        XCTAssertEqual(e[0].int64, Int64.max)
        XCTAssertEqual(e[1].int64, Int64.min)
        XCTAssertNil(e[2].int64)
        XCTAssertEqual(e[2].double, 9_223_372_036_854_775_808.0)
        XCTAssertNil(e[3].int64)
        XCTAssertEqual(e[3].double, -9_223_372_036_854_775_809.0)
        XCTAssertEqual(e[4].double, 1.2345678901234568e22)
        XCTAssertEqual(e[0].toValue(), .int(Int64.max))
        XCTAssertEqual(e[2].toValue(), .double(9_223_372_036_854_775_808.0))
    }

    func testInt64Lenient() throws {
        let doc = try parse(#"[12, "34", "-5", "1e3", " 7", "", "99999999999999999999", 1.0, 1e3, 1.5, null]"#)
        let e = Array(doc.root.elements)
        XCTAssertEqual(e.map(\.int64Lenient), [12, 34, -5, nil, nil, nil, nil, 1, 1000, nil, nil])
    }

    func testDoubles() throws {
        let doc = try parse(
            "[0.1, -0.0, 1e400, -1e400, 2.2250738585072014e-308, 5e-324, 1.7976931348623157e308, 123456789012345678]")
        let e = Array(doc.root.elements)
        XCTAssertEqual(e[0].double, 0.1)
        XCTAssertEqual(e[1].double?.sign, .minus)
        XCTAssertEqual(e[2].double, .infinity)
        XCTAssertEqual(e[3].double, -.infinity)
        XCTAssertEqual(e[4].double, 2.2250738585072014e-308)
        XCTAssertEqual(e[5].double, .leastNonzeroMagnitude)
        XCTAssertEqual(e[6].double, .greatestFiniteMagnitude)
        XCTAssertEqual(e[7].double, 123_456_789_012_345_678.0)
    }

    func testStringsAndEscapes() throws {
        let doc = try parse(#"["plain", "a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00", "é中😀", "\u0000", ""]"#)
        let e = Array(doc.root.elements)
        XCTAssertEqual(e[0].string, "plain")
        XCTAssertEqual(e[1].string, "a\"b\\c/d\u{8}\u{C}\n\r\t")
        XCTAssertEqual(e[2].string, "é中😀")
        XCTAssertEqual(e[3].string, "é中😀")
        XCTAssertEqual(e[4].string, "\u{0}")
        XCTAssertEqual(e[5].string, "")
        XCTAssertTrue(e[2].stringEquals("é中😀"))
        XCTAssertFalse(e[2].stringEquals("é中"))
        XCTAssertNil(doc.root.string)
    }

    func testEscapedKeysMatchAndDuplicateKeysFirstWins() throws {
        let doc = try parse(#"{"c\u006dd":1,"k":"first","k":"second"}"#)
        XCTAssertEqual(doc.root["cmd"]?.int64, 1)
        XCTAssertEqual(doc.root["k"]?.string, "first")
        XCTAssertEqual(doc.root.count, 3)
        XCTAssertEqual(doc.root.members.map(\.key), ["cmd", "k", "k"])
    }

    func testRawBytesAreTheExactSourceText() throws {
        let text = #" {"a" : [1, 2.5e3 , "x\n"], "b":{"c":null},"t":true,"f":false} "#
        let doc = try parse(text)
        func raw(_ node: JSONNode?) -> String { String(decoding: node?.rawBytes ?? [], as: UTF8.self) }
        XCTAssertEqual(raw(doc.root), #"{"a" : [1, 2.5e3 , "x\n"], "b":{"c":null},"t":true,"f":false}"#)
        XCTAssertEqual(raw(doc.root["a"]), #"[1, 2.5e3 , "x\n"]"#)
        XCTAssertEqual(raw(doc.root["a"]?[1]), "2.5e3")
        XCTAssertEqual(raw(doc.root["a"]?[2]), #""x\n""#)
        XCTAssertEqual(raw(doc.root["b"]), #"{"c":null}"#)
        XCTAssertEqual(raw(doc.root["b"]?["c"]), "null")
        XCTAssertEqual(raw(doc.root["t"]), "true")
        XCTAssertEqual(raw(doc.root["f"]), "false")
    }

    func testToValue() throws {
        let doc = try parse(#"{"a":[1,2.5,"x",null,true],"b":{}}"#)
        let expected: JSONValue = .object([
            "a": .array([.int(1), .double(2.5), .string("x"), .null, .bool(true)]),
            "b": .object([:]),
        ])
        XCTAssertEqual(doc.root.toValue(), expected)
    }

    func testScalarTopLevel() throws {
        XCTAssertEqual(try parse(" 42 ").root.int64, 42)
        XCTAssertEqual(try parse("\"s\"").root.string, "s")
        XCTAssertTrue(try parse("null").root.isNull)
    }

    func testErrorsCarryOffsetAndReason() {
        XCTAssertEqual(error(""), JSONError(offset: 0, reason: .unexpectedEnd))
        XCTAssertEqual(error("[1,]"), JSONError(offset: 3, reason: .trailingComma))
        XCTAssertEqual(error(#"{"a":1,}"#), JSONError(offset: 7, reason: .trailingComma))
        XCTAssertEqual(error("01"), JSONError(offset: 1, reason: .leadingZero))
        XCTAssertEqual(error("[1 2]"), JSONError(offset: 3, reason: .expectedCommaOrEnd))
        XCTAssertEqual(error("1 2"), JSONError(offset: 2, reason: .trailingData))
        XCTAssertEqual(error(#"{"a" 1}"#), JSONError(offset: 5, reason: .expectedColon))
        XCTAssertEqual(error("{1:2}"), JSONError(offset: 1, reason: .expectedKey))
        XCTAssertEqual(error("NaN"), JSONError(offset: 0, reason: .unexpectedByte(0x4E)))
        XCTAssertEqual(error("nul"), JSONError(offset: 3, reason: .unexpectedEnd))
        XCTAssertEqual(error("nulx"), JSONError(offset: 3, reason: .invalidLiteral))
        XCTAssertEqual(error("\"a\u{1}\""), JSONError(offset: 2, reason: .controlCharacterInString))
        XCTAssertEqual(error(#""\x""#), JSONError(offset: 2, reason: .invalidEscape))
        XCTAssertEqual(error(#""\u12G4""#), JSONError(offset: 5, reason: .invalidUnicodeEscape))
        XCTAssertEqual(error(#""\ud800""#), JSONError(offset: 1, reason: .loneSurrogate))
        XCTAssertEqual(error(#""\udc00\ud800""#), JSONError(offset: 1, reason: .loneSurrogate))
        XCTAssertEqual(error([0x22, 0xC0, 0x80, 0x22]), JSONError(offset: 1, reason: .invalidUTF8))
        XCTAssertEqual(error("[[1]]", maxDepth: 1), JSONError(offset: 1, reason: .depthLimitExceeded(1)))
        XCTAssertEqual(
            error("[1,]").map(String.init(describing:)), "invalid JSON at byte 3: trailing comma")
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = [UInt8](repeating: 0x5B, count: 100_000)
        XCTAssertEqual(error(deep), JSONError(offset: 64, reason: .depthLimitExceeded(64)))
        XCTAssertEqual(error(deep, maxDepth: 200_000), JSONError(offset: 100_000, reason: .unexpectedEnd))
        XCTAssertEqual(error(deep, maxDepth: .max), JSONError(offset: 100_000, reason: .unexpectedEnd))
        XCTAssertEqual(error("[]", maxDepth: -1), JSONError(offset: 0, reason: .depthLimitExceeded(0)))
        XCTAssertEqual(try parse("[[]]", maxDepth: .max).root.count, 1)
        let nested = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(nested))
        XCTAssertNotNil(error("[" + nested + "]"))
    }

    /// The string scanner works eight bytes at a time and jumps to the first special byte: put each kind of
    /// special byte at every position around the word boundaries.
    func testSpecialBytesAtEveryPositionOfTheWordScan() throws {
        for length in 0..<34 {
            for position in 0...length {
                let prefix = String(repeating: "a", count: position)
                let suffix = String(repeating: "b", count: length - position)
                for (inner, decoded) in [(#"\""#, "\""), (#"\\"#, "\\"), ("é", "é"), (#"\u4e2d"#, "中"), ("😀", "😀")] {
                    let doc = try parse("[\"" + prefix + inner + suffix + "\",1]")
                    XCTAssertEqual(
                        doc.root[0]?.string, prefix + decoded + suffix, "length \(length) position \(position)")
                    XCTAssertEqual(doc.root[1]?.int64, 1)
                }
                var bytes = Array(("[\"" + prefix + "x" + suffix + "\"]").utf8)
                bytes[2 + position] = 0x01
                XCTAssertEqual(error(bytes), JSONError(offset: 2 + position, reason: .controlCharacterInString))
                bytes[2 + position] = 0x80
                XCTAssertEqual(error(bytes), JSONError(offset: 2 + position, reason: .invalidUTF8))
            }
        }
    }

    func testTapeGrowsBeyondItsFirstGuess() throws {
        let many = "[" + String(repeating: "1,", count: 50_000) + "[{}]]"
        let doc = try parse(many)
        XCTAssertEqual(doc.root.count, 50_001)
        XCTAssertEqual(doc.root[49_999]?.int64, 1)
        XCTAssertEqual(doc.root[50_000]?[0]?.kind, .object)
        XCTAssertEqual(doc.nodeCount, 50_003)
    }

    func testUnsafeBufferInitCopiesInput() throws {
        var bytes = Array(#"{"k":"v"}"#.utf8)
        let doc = try bytes.withUnsafeBytes { try JSONDocument(parsing: $0) }
        bytes[6] = 0x77
        XCTAssertEqual(doc.root["k"]?.string, "v")
    }
}
