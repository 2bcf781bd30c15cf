import XCTest
@testable import DanmuClient

final class ResolverHTTPClientTests: XCTestCase {
    func testCurlClientGetsStatusHeadersBodyAndSendsCookieAndAgent() throws {
        let server = StubHTTPServer(routes: [
            "/x": [
                .init(
                    status: 200, headers: ["Set-Cookie: buvid3=ABC-infoc; path=/; domain=.bilibili.com"],
                    body: Array(#"{"code":0}"#.utf8))
            ]
        ])
        defer { server.stop() }
        let client = CurlHTTPClient()
        let response = try client.get(
            HTTPRequest(
                url: server.baseURL + "/x?a=1", headers: [HTTPHeader("Referer", "https://live.bilibili.com")],
                cookie: #"SESSDATA=s"e\cret; buvid3=B"#, userAgent: "TestAgent/1.0", timeoutSeconds: 5))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"code":0}"#)
        XCTAssertEqual(response.setCookies.first?.name, "buvid3")
        XCTAssertEqual(response.setCookies.first?.value, "ABC-infoc")
        let seen = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(seen.target, "/x?a=1")
        XCTAssertEqual(seen.headers["user-agent"], "TestAgent/1.0")
        XCTAssertEqual(seen.headers["cookie"], #"SESSDATA=s"e\cret; buvid3=B"#)
        XCTAssertEqual(seen.headers["referer"], "https://live.bilibili.com")
    }

    func testNon200StatusIsReturnedNotThrown() throws {
        let server = StubHTTPServer(routes: [
            "/y": [.init(status: 412, contentType: "text/html", body: Array("<html/>".utf8))]
        ])
        defer { server.stop() }
        let response = try CurlHTTPClient().get(
            HTTPRequest(url: server.baseURL + "/y", userAgent: "t", timeoutSeconds: 5))
        XCTAssertEqual(response.status, 412)
        XCTAssertEqual(response.header("content-type"), "text/html")
    }

    func testConnectionRefusedIsATransportError() throws {
        let server = StubHTTPServer(routes: [:])
        let url = server.baseURL + "/"
        server.stop()  // nothing listens on that port any more
        XCTAssertThrowsError(try CurlHTTPClient().get(HTTPRequest(url: url, userAgent: "t", timeoutSeconds: 3))) {
            guard case .transportFailed(let code, _) = $0 as? HTTPError else { return XCTFail("\($0)") }
            XCTAssertEqual(code, 7)
        }
    }

    func testMissingBinaryIsASpawnOrTransportError() {
        let client = CurlHTTPClient(curlPath: "/nonexistent/curl")
        XCTAssertThrowsError(try client.get(HTTPRequest(url: "http://127.0.0.1:1/", userAgent: "t", timeoutSeconds: 1)))
    }

    func testResponseOverLimitIsRefused() throws {
        let server = StubHTTPServer(routes: ["/big": [.init(body: [UInt8](repeating: 65, count: 300_000))]])
        defer { server.stop() }
        let client = CurlHTTPClient(maxResponseBytes: 100_000)
        XCTAssertThrowsError(
            try client.get(HTTPRequest(url: server.baseURL + "/big", userAgent: "t", timeoutSeconds: 5))
        ) {
            XCTAssertEqual($0 as? HTTPError, .tooLarge(100_000))
        }
    }

    func testParseSkipsInformationalBlocks() throws {
        let raw = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\nbody".utf8)
        let response = try CurlHTTPClient.parse(raw)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("a"), "b")
        XCTAssertEqual(response.body, Array("body".utf8))
    }

    func testPacerSpacesRequests() {
        let pacer = HTTPRequestPacer(minimumInterval: .milliseconds(30))
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<4 { pacer.waitForSlot() }
        // Three gaps of 30 ms must have elapsed (a lower bound, not a speed assertion).
        XCTAssertGreaterThanOrEqual(clock.now - start, .milliseconds(90))
    }
}
