import XCTest

@testable import DanmuCodecs

/// `JSONWriter`: separators, escaping, numbers, and parse → write → parse round trips.
final class JSONWriterTests: XCTestCase {
    private func text(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

    func testCommasAndColonsInNestedContainers() {
        var w = JSONWriter()
        w.beginObject()
        w.key("cmd")
        w.string("DANMU_MSG")
        w.key("info")
        w.beginArray()
        w.beginArray()
        w.endArray()
        w.int(1)
        w.beginObject()
        w.endObject()
        w.null()
        w.bool(true)
        w.bool(false)
        w.double(2.5)
        w.raw(Array("[7]".utf8))
        w.endArray()
        w.key("n")
        w.int(-9_223_372_036_854_775_808 as Int64)
        w.endObject()
        XCTAssertEqual(text(w), #"{"cmd":"DANMU_MSG","info":[[],1,{},null,true,false,2.5,[7]],"n":-9223372036854775808}"#)
        w.reset()
        w.int(0)
        XCTAssertEqual(text(w), "0")
    }

    func testIntegersBeyondInt64() {
        var w = JSONWriter()
        w.beginArray()
        w.int(UInt64.max)
        w.int(Int64.max)
        w.endArray()
        XCTAssertEqual(text(w), "[18446744073709551615,9223372036854775807]")
    }

    func testStringEscaping() {
        let s = "q\"b\\s/\u{8}\u{C}\n\r\t\u{0}\u{1F}\u{7F}é😀"
        XCTAssertEqual(
            String(decoding: JSONWriter.escape(s), as: UTF8.self),
            "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7F}é😀\"")
        XCTAssertEqual(
            String(decoding: JSONWriter.escape("é😀\u{1}\u{7F}~", asciiOnly: true), as: UTF8.self),
            "\"\\u00e9\\ud83d\\ude00\\u0001\\u007f~\"")
    }

    func testDoublesShortestAndNonFiniteAsNull() {
        var w = JSONWriter()
        w.beginArray()
        for d in [0.1, 100.0, 1e300, -0.0, .leastNonzeroMagnitude, Double.nan, .infinity, -.infinity] { w.double(d) }
        w.endArray()
        XCTAssertEqual(text(w), "[0.1,100.0,1e+300,-0.0,5e-324,null,null,null]")
    }

    func testRoundTripParseWriteParse() throws {
        let source = #"{"a":[1,-2,3.25,1e-7,"x\"\u0001é😀",null,true,false,{}],"b":{"c":[[]]},"a":9223372036854775807}"#
        let first = try JSONValue(parsing: Array(source.utf8))
        for ascii in [false, true] {
            let written = first.serialized(asciiOnly: ascii)
            XCTAssertEqual(try JSONValue(parsing: written), first)
        }
        XCTAssertEqual(
            String(decoding: first.serialized(), as: UTF8.self),
            #"{"a":[1,-2,3.25,1e-07,"x\"\u0001é😀",null,true,false,{}],"b":{"c":[[]]},"a":9223372036854775807}"#)
    }
}
