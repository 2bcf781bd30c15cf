import XCTest

@testable import DanmuRealtime

/// `HTTPRequestParser` without sockets: every split of the input gives the same requests and verdicts.
final class HTTPRequestParserTests: XCTestCase {
    private func parseAll(_ bytes: [UInt8], limits: HTTPServer.Limits, splitAt: Int? = nil) -> (
        [HTTPRequest], HTTPRequestError?
    ) {
        var parser = HTTPRequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        let pieces = splitAt.map { [Array(bytes[..<$0]), Array(bytes[$0...])] } ?? [bytes]
        for piece in pieces {
            parser.feed(piece)
            while true {
                do throws(HTTPRequestError) {
                    guard let request = try parser.nextRequest() else { break }
                    requests.append(request)
                } catch {
                    return (requests, error)
                }
            }
        }
        return (requests, nil)
    }

    func testEverySplitOfPipelinedRequestsParsesTheSame() {
        let text =
            "\r\nPOST /rooms/42?a=1&b=x+y HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /events?rooms=1,2 HTTP/1.0\nConnection: keep-alive\n\n"
        let bytes = Array(text.utf8)
        let (whole, error) = parseAll(bytes, limits: .init())
        XCTAssertNil(error)
        XCTAssertEqual(whole.map(\.method), ["POST", "GET"])
        XCTAssertEqual(whole[0].path, "/rooms/42")
        XCTAssertEqual(whole[0].query.map { "\($0.name)=\($0.value)" }, ["a=1", "b=x y"])
        XCTAssertEqual(whole[0].header("AUTHORIZATION"), "Bearer t")
        XCTAssertEqual(whole[0].body, Array("abc".utf8))
        XCTAssertTrue(whole[0].keepAlive)
        XCTAssertEqual(whole[1].minorVersion, 0)
        XCTAssertTrue(whole[1].keepAlive, "HTTP/1.0 with Connection: keep-alive")
        for split in 1..<bytes.count {
            let (pieces, splitError) = parseAll(bytes, limits: .init(), splitAt: split)
            XCTAssertNil(splitError, "split at \(split)")
            XCTAssertEqual(pieces.map(\.path), whole.map(\.path), "split at \(split)")
            XCTAssertEqual(pieces.map(\.body), whole.map(\.body), "split at \(split)")
        }
    }

    /// Found by Fuzz/http: a request line of exactly the limit, split between its CR and LF, was 414 while the
    /// same bytes in one piece were within the limit.
    func testRequestLineAtTheLimitSplitBeforeItsLineFeedIsWithinTheLimit() {
        var limits = HTTPServer.Limits()
        limits.maxRequestLineBytes = 20
        let line = "GET /" + String(repeating: "a", count: 6) + " HTTP/1.1"
        XCTAssertEqual(line.utf8.count, 20)
        let bytes = Array((line + "\r\nHost: x\r\n\r\n").utf8)
        for split in 1..<bytes.count {
            let (requests, error) = parseAll(bytes, limits: limits, splitAt: split)
            XCTAssertNil(error, "split at \(split)")
            XCTAssertEqual(requests.count, 1, "split at \(split)")
        }
        let long = Array(("GET /" + String(repeating: "a", count: 7) + " HTTP/1.1\r\n\r\n").utf8)
        XCTAssertEqual(parseAll(long, limits: limits).1?.status, 414)
        XCTAssertEqual(parseAll(long, limits: limits, splitAt: 21).1?.status, 414)
    }

    func testBadRequestsNameWhatIsWrong() {
        let cases: [(String, Int, String)] = [
            ("GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"),
            ("GET http://x/ HTTP/1.1\r\n\r\n", 400, "must be a path"),
            ("GET /%00 HTTP/1.1\r\n\r\n", 400, "encoded NUL"),
            ("GET /%C3 HTTP/1.1\r\n\r\n", 400, "not UTF-8"),
            ("GET / HTTP/1.1\r\n Folded: x\r\n\r\n", 400, "folding"),
            ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "not a token"),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "differing"),
            ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "decimal"),
        ]
        for (text, status, message) in cases {
            let error = parseAll(Array(text.utf8), limits: .init()).1
            XCTAssertEqual(error?.status, status, text)
            XCTAssertTrue(error?.message.contains(message) ?? false, "\(text): \(String(describing: error))")
        }
    }
}
