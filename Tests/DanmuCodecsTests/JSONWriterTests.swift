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
        XCTAssertEqual(
            text(w), #"{"cmd":"DANMU_MSG","info":[[],1,{},null,true,false,2.5,[7]],"n":-9223372036854775808}"#)
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

    func testStaticKeysWriteTheSameBytesAsEscapedKeys() {
        var fast = JSONWriter()
        var slow = JSONWriter()
        fast.beginObject(); fast.key(static: "room"); fast.int(1); fast.key(static: "medal"); fast.beginObject()
        fast.key(static: "anchor_room_id"); fast.bool(true); fast.endObject(); fast.key(static: ""); fast.null()
        fast.endObject()
        slow.beginObject(); slow.key("room"); slow.int(1); slow.key("medal"); slow.beginObject()
        slow.key("anchor_room_id"); slow.bool(true); slow.endObject(); slow.key(""); slow.null()
        slow.endObject()
        XCTAssertEqual(text(fast), #"{"room":1,"medal":{"anchor_room_id":true},"":null}"#)
        XCTAssertEqual(fast.bytes, slow.bytes)
        XCTAssertTrue(JSONWriter.needsNoEscaping("received_at"))
        XCTAssertFalse(JSONWriter.needsNoEscaping("a\"b"))
        XCTAssertFalse(JSONWriter.needsNoEscaping("a\nb"))
    }

    /// Strings of every length around the 256-byte one-append fast path, clean or with an escape at the start,
    /// middle or end, against a byte-at-a-time reference, as first and later array elements.
    func testStringsAroundTheFastPathLimitMatchTheReference() throws {
        func reference(_ s: String) -> [UInt8] {
            var out: [UInt8] = [0x22]
            for b in s.utf8 {
                switch b {
                case 0x22: out += Array(#"\""#.utf8)
                case 0x5C: out += Array(#"\\"#.utf8)
                case 0x0A: out += Array(#"\n"#.utf8)
                case 0x01: out += Array(#"\u0001"#.utf8)
                default: out.append(b)
                }
            }
            return out + [0x22]
        }
        for length in [0, 1, 7, 8, 9, 250, 253, 254, 255, 256, 257, 600] {
            let clean = String(repeating: "é", count: length / 2) + String(repeating: "a", count: length % 2)
            for s in [clean, "\"" + clean, clean + "\n", clean + "\\" + clean, "\u{1}" + clean + "\u{1}"] {
                XCTAssertEqual(JSONWriter.escape(s), reference(s), "length \(length)")
                var w = JSONWriter()
                w.beginArray(); w.string(s); w.string(s); w.endArray()
                XCTAssertEqual(w.bytes, [0x5B] + reference(s) + [0x2C] + reference(s) + [0x5D])
                XCTAssertEqual(try JSONValue(parsing: w.bytes), .array([.string(s), .string(s)]))
            }
        }
    }

    func testIntegerExtremesAfterSiblings() {
        var w = JSONWriter()
        w.beginArray()
        for v: Int64 in [0, -1, 9, 10, -10, 1_234_567_890_123, .max, .min] { w.int(v) }
        w.int(-7 as Int)
        w.int(UInt8(255))
        w.endArray()
        XCTAssertEqual(text(w), "[0,-1,9,10,-10,1234567890123,9223372036854775807,-9223372036854775808,-7,255]")
    }

    func testTopLevelValuesAreSeparatedUnlessANewTopLevelValueBegins() {
        var w = JSONWriter()
        w.beginObject(); w.endObject()
        w.beginArray(); w.endArray()
        w.beginTopLevelValue()
        w.beginObject(); w.endObject()
        w.beginTopLevelValue()
        w.string("x")
        XCTAssertEqual(text(w), #"{},[]{}"x""#)
    }
}
