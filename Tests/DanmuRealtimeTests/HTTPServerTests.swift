import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// The HTTP/1.1 server with a router of the test's own, driven by real clients: Python's http.client, curl and
/// raw sockets for what no library sends.
final class HTTPServerTests: XCTestCase {
    private func makeServer(limits: HTTPServer.Limits = .init()) throws -> PlainHTTPServer {
        try PlainHTTPServer(limits: limits) { router in
            router.add("GET", "/hello") { request, _ in
                .response(.text(200, "hello \(request.queryValue("name") ?? "world")"))
            }
            router.add("GET", "/echo/{word}") { _, context in .response(.text(200, context.parameters["word"] ?? "")) }
            router.add("POST", "/echo/{word}") { request, _ in
                .response(HTTPResponse(status: 200, body: request.body))
            }
        }
    }

    func testRoutingAnswers404And405WithAllowAnd400ForBadEscapes() throws {
        let server = try makeServer()
        defer { server.close() }
        let output = python(
            """
            import http.client, sys
            c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
            def ask(method, path, body=None):
                c.request(method, path, body=body)
                r = c.getresponse()
                print(method, path, r.status, r.getheader('Allow'), repr(r.read().decode()))
            ask('GET', '/hello?name=caf%C3%A9+au+lait')
            ask('GET', '/echo/two%20words')
            ask('POST', '/echo/x', body=b'abc')
            ask('GET', '/missing')
            ask('DELETE', '/hello')
            c.close()
            c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
            ask('GET', '/hello?name=%ZZ')
            """, ["\(server.port)"])
        XCTAssertTrue(output.contains("GET /hello?name=caf%C3%A9+au+lait 200 None 'hello café au lait\\n'"), output)
        XCTAssertTrue(output.contains("GET /echo/two%20words 200 None 'two words\\n'"), output)
        XCTAssertTrue(output.contains("POST /echo/x 200 None 'abc'"), output)
        XCTAssertTrue(output.contains("GET /missing 404 None 'no such path: /missing\\n'"), output)
        XCTAssertTrue(output.contains("DELETE /hello 405 GET, HEAD"), output)
        XCTAssertTrue(output.contains("GET /hello?name=%ZZ 400 None 'bad percent-escape in the query\\n'"), output)
    }

    func testKeepAliveServesTwoRequestsOnOneConnection() throws {
        let server = try makeServer()
        defer { server.close() }
        let output = python(
            """
            import http.client, sys
            c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
            c.request('GET', '/hello?name=one'); r = c.getresponse(); first = r.read(); sock = c.sock
            c.request('GET', '/hello?name=two'); r = c.getresponse(); second = r.read()
            print(first, second, 'same-socket' if c.sock is sock else 'reconnected', r.getheader('Connection'))
            """, ["\(server.port)"])
        XCTAssertTrue(output.contains("b'hello one\\n' b'hello two\\n' same-socket None"), output)
        XCTAssertEqual(server.statistics().accepted, 1)
        XCTAssertEqual(server.statistics().requests, 2)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawClient(port: server.port)
        client.send(
            "GET /echo/first HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo/b HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n"
                + "second" + "GET /echo/third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (text, closed) = client.read()
        XCTAssertTrue(closed, "Connection: close on the last request closes the connection")
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix(6) }
        XCTAssertEqual(bodies.count, 3, text)
        XCTAssertEqual(bodies, ["first\n", "second", "third\n"], text)
        XCTAssertEqual(text.components(separatedBy: "Connection: close").count, 2, "only the last answer closes")
    }

    func testHTTP10ClosesAfterTheResponse() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.0\r\n\r\n")
        let (text, closed) = client.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.contains("Connection: close\r\n"), text)
        XCTAssertTrue(closed)
    }

    func testRequestLineLimitAnswers414() throws {
        var limits = HTTPServer.Limits()
        limits.maxRequestLineBytes = 100
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let client = try RawClient(port: server.port)
        client.send("GET /hello?name=" + String(repeating: "a", count: 200) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        let (text, closed) = client.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"), text)
        XCTAssertTrue(text.contains("request line longer than 100 bytes"), text)
        XCTAssertTrue(closed)
        // Within the limit the same request is fine.
        let ok = try RawClient(port: server.port)
        ok.send("GET /hello?name=" + String(repeating: "a", count: 50) + " HTTP/1.1\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(ok.read().text.hasPrefix("HTTP/1.1 200 OK"))
    }

    func testHeaderCountLimitAnswers431() throws {
        var limits = HTTPServer.Limits()
        limits.maxHeaderCount = 10
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let headers = (0..<11).map { "X-H\($0): v\r\n" }.joined()
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\n" + headers + "\r\n")
        let (text, closed) = client.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 431 "), text)
        XCTAssertTrue(text.contains("more than 10 header fields"), text)
        XCTAssertTrue(closed)
        let ok = try RawClient(port: server.port)
        ok.send("GET /hello HTTP/1.1\r\n" + (0..<9).map { "X-H\($0): v\r\n" }.joined() + "Connection: close\r\n\r\n")
        XCTAssertTrue(ok.read().text.hasPrefix("HTTP/1.1 200 OK"))
    }

    func testHeaderBytesLimitAnswers431BeforeTheHeadEnds() throws {
        var limits = HTTPServer.Limits()
        limits.maxHeaderBytes = 1_024
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let client = try RawClient(port: server.port)
        // No blank line: the server must refuse on size alone, not wait for the end of the head.
        client.send("GET /hello HTTP/1.1\r\nX-Big: " + String(repeating: "b", count: 2_000) + "\r\n")
        let (text, closed) = client.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 431 "), text)
        XCTAssertTrue(text.contains("header block larger than 1024 bytes"), text)
        XCTAssertTrue(closed)
    }

    func testBodySizeLimitAnswers413() throws {
        var limits = HTTPServer.Limits()
        limits.maxBodyBytes = 100
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let output = python(
            """
            import http.client, sys
            c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
            c.request('POST', '/echo/x', body=b'y' * 100); r = c.getresponse(); print('fits', r.status, len(r.read()))
            try:
                c.request('POST', '/echo/x', body=b'y' * 101); r = c.getresponse(); print('too big', r.status, r.read())
            except (BrokenPipeError, ConnectionResetError) as e:
                print('reset', e)
            """, ["\(server.port)"])
        XCTAssertTrue(output.contains("fits 200 100"), output)
        XCTAssertTrue(output.contains("too big 413 b'request body larger than 100 bytes\\n'"), output)
    }

    func testChunkedRequestBodyIsRefusedWith501() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawClient(port: server.port)
        client.send("POST /echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        let (text, _) = client.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 501 "), text)
    }

    func testTotalConnectionLimitAnswers503() throws {
        var limits = HTTPServer.Limits()
        limits.maxConnections = 2
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let first = try RawClient(port: server.port, source: "127.0.0.2")
        let second = try RawClient(port: server.port, source: "127.0.0.3")
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(10)) { server.statistics().open == 2 })
        let third = try RawClient(port: server.port, source: "127.0.0.4")
        let (text, closed) = third.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 503 "), text)
        XCTAssertTrue(text.contains("too many connections (limit 2)"), text)
        XCTAssertTrue(closed)
        // The two admitted connections still work.
        for client in [first, second] {
            client.send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
            XCTAssertTrue(client.read().text.hasPrefix("HTTP/1.1 200 OK"))
        }
    }

    func testPerAddressConnectionLimitAnswers503OnlyToThatAddress() throws {
        var limits = HTTPServer.Limits()
        limits.maxConnectionsPerAddress = 2
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let held = try [RawClient(port: server.port), RawClient(port: server.port)]
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(10)) { server.statistics().open == 2 })
        let refused = try RawClient(port: server.port)
        let (text, closed) = refused.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 503 "), text)
        XCTAssertTrue(text.contains("too many connections from your address (limit 2)"), text)
        XCTAssertTrue(closed)
        let other = try RawClient(port: server.port, source: "127.0.0.2")
        other.send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(other.read().text.hasPrefix("HTTP/1.1 200 OK"), "another address is not limited")
        XCTAssertEqual(held.count, 2)
    }

    func testSlowlorisHeaderDribbleIsAnswered408AndClosedWhileOthersAreServed() throws {
        var limits = HTTPServer.Limits()
        limits.headerReadTimeout = .seconds(1)
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let slow = try RawClient(port: server.port, timeout: .seconds(10))
        slow.send("GET /hello HTTP/1.1\r\n")
        var answeredMeanwhile = 0
        var sawTimeout = false
        let started = SystemClock.monotonicNanoseconds()
        for index in 0..<20 {
            // One header line every 200 ms: each byte is "progress", but the request never completes in time.
            slow.send("X-Drip-\(index): 1\r\n")
            let other = try RawClient(port: server.port)
            other.send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
            if other.read().text.hasPrefix("HTTP/1.1 200 OK") { answeredMeanwhile += 1 }
            usleep(200_000)
            if server.statistics().timedOut > 0 {
                sawTimeout = true
                break
            }
        }
        let elapsed = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        XCTAssertTrue(sawTimeout, "no 408 after \(elapsed) s")
        let (text, closed) = slow.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), text)
        XCTAssertTrue(closed)
        XCTAssertGreaterThanOrEqual(answeredMeanwhile, 3, "other clients were served while the slow one dribbled")
    }

    func testSilentConnectionIsTimedOutAndIdleKeepAliveIsClosed() throws {
        var limits = HTTPServer.Limits()
        limits.headerReadTimeout = .milliseconds(500)
        limits.idleTimeout = .milliseconds(700)
        let server = try makeServer(limits: limits)
        defer { server.close() }
        let silent = try RawClient(port: server.port)
        let (text, closed) = silent.read()
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 408 "), text)
        XCTAssertTrue(closed)
        let idle = try RawClient(port: server.port)
        idle.send("GET /hello HTTP/1.1\r\n\r\n")
        let answered = idle.read { $0.hasSuffix("hello world\n") }
        XCTAssertTrue(answered.text.hasPrefix("HTTP/1.1 200 OK"), answered.text)
        let after = idle.read()
        XCTAssertTrue(after.closed, "an idle keep-alive connection is closed")
        XCTAssertEqual(after.text, "", "closed without an answer")
        XCTAssertEqual(server.statistics().idleClosed, 1)
    }

    func testHeadAnswersGetsHeadersWithoutTheBody() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawClient(port: server.port)
        client.send("HEAD /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
        let (text, _) = client.read()
        XCTAssertTrue(
            text.hasPrefix(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\nHTTP/1.1 200 OK"
            ),
            text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\nhello world\n"), text)
    }

    func testCurlGetsTheSameAnswers() throws {
        let server = try makeServer()
        defer { server.close() }
        let ok = runProcess(["curl", "-sS", "-i", "http://127.0.0.1:\(server.port)/echo/curl"])
        XCTAssertEqual(ok.status, 0, ok.output)
        XCTAssertTrue(ok.output.hasPrefix("HTTP/1.1 200 OK"), ok.output)
        XCTAssertTrue(ok.output.hasSuffix("curl\n"), ok.output)
    }
}
