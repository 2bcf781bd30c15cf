import XCTest

@testable import DanmuPipeline

/// The RESP2 reader: every split of the stream, nesting without recursion, limits and hostile replies.
final class RESPReaderTests: XCTestCase {
    private let stream = Array(
        "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n$0\r\n\r\n"
            .utf8)
    private let expected: [RESPValue] = [
        .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(Array("he\r\nl".utf8)),
        .bulkString(nil), .array(nil), .array([]),
        .array([.integer(1), .array([.bulkString([UInt8(ascii: "a")]), .simpleString("b")]), .bulkString([])]),
    ]

    private func readAll(_ chunks: [ArraySlice<UInt8>], limits: RESPReader.Limits = .init()) throws -> [RESPValue] {
        var reader = RESPReader(limits: limits)
        var values: [RESPValue] = []
        for chunk in chunks {
            reader.feed(chunk)
            while let value = try reader.next() { values.append(value) }
        }
        return values
    }

    func testWholeStream() throws {
        XCTAssertEqual(try readAll([stream[...]]), expected)
    }

    func testEverySplitPointAndByteAtATime() throws {
        for cut in 0...stream.count {
            XCTAssertEqual(try readAll([stream[..<cut], stream[cut...]]), expected, "split at \(cut)")
        }
        XCTAssertEqual(try readAll(stream.map { [$0][...] }), expected)
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() {
        let hostile = Array(String(repeating: "*1\r\n", count: 100_000).utf8)
        XCTAssertThrowsError(try readAll([hostile[...]])) { error in
            XCTAssertEqual(error as? RESPError, .nestedTooDeep(33))
        }
        var limits = RESPReader.Limits()
        limits.maxDepth = 20_000
        // With the depth limit lifted, 10,000 levels still parse without recursion once closed by a scalar.
        let closed = Array(String(repeating: "*1\r\n", count: 10_000).utf8) + Array(":7\r\n".utf8)
        var value = try! readAll([closed[...]], limits: limits)[0]
        var depth = 0
        while case .array(let items?) = value {
            value = items[0]
            depth += 1
        }
        XCTAssertEqual(depth, 10_000)
        XCTAssertEqual(value, .integer(7))
    }

    func testHostileLengthsFailBeforeAllocating() {
        XCTAssertThrowsError(try readAll([Array("$99999999999\r\n".utf8)[...]])) {
            XCTAssertEqual($0 as? RESPError, .bulkTooLong(99_999_999_999))
        }
        XCTAssertThrowsError(try readAll([Array("*2147483647\r\n".utf8)[...]])) {
            XCTAssertEqual($0 as? RESPError, .arrayTooLarge(2_147_483_647))
        }
        XCTAssertThrowsError(try readAll([Array("$-2\r\n".utf8)[...]]))
        XCTAssertThrowsError(try readAll([Array(":99999999999999999999\r\n".utf8)[...]])) {
            XCTAssertEqual($0 as? RESPError, .badInteger)
        }
        XCTAssertThrowsError(try readAll([Array(":\r\n".utf8)[...]]))
        XCTAssertThrowsError(try readAll([Array("!oops\r\n".utf8)[...]])) {
            XCTAssertEqual($0 as? RESPError, .unknownType(UInt8(ascii: "!")))
        }
        XCTAssertThrowsError(try readAll([Array("$3\r\nabcXY".utf8)[...]])) {
            XCTAssertEqual($0 as? RESPError, .missingCRLF)
        }
        var limits = RESPReader.Limits()
        limits.maxLineLength = 16
        XCTAssertThrowsError(try readAll([Array(("+" + String(repeating: "x", count: 40)).utf8)[...]], limits: limits))
        {
            XCTAssertEqual($0 as? RESPError, .lineTooLong)
        }
    }

    func testCommandEncoding() {
        var out: [UInt8] = []
        RESPCommand.append(["SET", "k", "v1"], to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n")
    }
}

final class RedisURLTests: XCTestCase {
    func testFullURL() throws {
        let url = try RedisURL(
            parsing: "redis://danmu:p%40ss@127.0.0.1:6380/3?stream=all&room_stream=room:&maxlen=500&publish=live")
        XCTAssertEqual(url.user, "danmu")
        XCTAssertEqual(url.password, "p@ss")
        XCTAssertEqual(url.host, "127.0.0.1")
        XCTAssertEqual(url.port, 6380)
        XCTAssertEqual(url.database, 3)
        XCTAssertEqual(url.stream, "all")
        XCTAssertEqual(url.roomStreamPrefix, "room:")
        XCTAssertEqual(url.publishChannel, "live")
        XCTAssertEqual(url.maxLength, 500)
    }

    func testDefaults() throws {
        let url = try RedisURL(parsing: "redis://localhost")
        XCTAssertEqual(url.host, "127.0.0.1")
        XCTAssertEqual(url.port, 6379)
        XCTAssertEqual(url.database, 0)
        XCTAssertEqual(url.stream, "danmu")
        XCTAssertNil(url.user)
        XCTAssertNil(url.password)
        XCTAssertEqual(try RedisURL(parsing: "redis://secret@127.0.0.1").password, "secret")
        XCTAssertEqual(try RedisURL(parsing: "redis://:secret@127.0.0.1").user, nil)
    }

    func testBadURLsSayWhy() {
        for (text, why) in [
            ("http://127.0.0.1", "redis://"), ("redis://", "no host"), ("redis://127.0.0.1:0", "port"),
            ("redis://127.0.0.1:99999", "port"), ("redis://example.com", "IPv4"), ("redis://127.0.0.1/x", "database"),
            ("redis://127.0.0.1?maxlen=-1", "maxlen"), ("redis://127.0.0.1?bogus=1", "unknown option"),
            ("redis://a%zz@127.0.0.1", "percent"),
        ] {
            XCTAssertThrowsError(try RedisURL(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(why), "\(text): \(error)")
            }
        }
    }
}
