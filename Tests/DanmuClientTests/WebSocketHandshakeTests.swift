import TestSupport
import XCTest

@testable import DanmuClient

final class WebSocketHandshakeTests: XCTestCase {
    private func makeHandshake(port: Int = 443, secure: Bool = true, cookie: String? = "buvid3=abc")
        -> WebSocketHandshake
    {
        var random = FixedWords([0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908])
        return WebSocketHandshake(
            host: "broadcastlv.chat.bilibili.com", port: port, secure: secure, userAgent: "Mozilla/5.0 Test",
            cookie: cookie, random: &random)
    }

    func testRequestLooksLikeABrowsersUpgrade() throws {
        let handshake = makeHandshake()
        XCTAssertEqual(handshake.key, "AAECAwQFBgcICQoLDA0ODw==")  // base64 of bytes 0…15
        let text = String(decoding: try handshake.requestBytes(), as: UTF8.self)
        XCTAssertEqual(
            text,
            "GET /sub HTTP/1.1\r\nHost: broadcastlv.chat.bilibili.com\r\nConnection: Upgrade\r\nPragma: no-cache\r\n"
                + "Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 Test\r\nUpgrade: websocket\r\n"
                + "Origin: https://live.bilibili.com\r\nSec-WebSocket-Version: 13\r\n"
                + "Accept-Language: zh-CN,zh;q=0.9,en;q=0.8\r\nCookie: buvid3=abc\r\n"
                + "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n\r\n")
        let nonDefault = String(decoding: try makeHandshake(port: 2245).requestBytes(), as: UTF8.self)
        XCTAssertTrue(nonDefault.contains("\r\nHost: broadcastlv.chat.bilibili.com:2245\r\n"))
        XCTAssertTrue(
            String(decoding: try makeHandshake(port: 80, secure: false, cookie: nil).requestBytes(), as: UTF8.self)
                .contains("\r\nHost: broadcastlv.chat.bilibili.com\r\n"))
    }

    func testRequestRefusesHeaderInjection() {
        XCTAssertThrowsError(try makeHandshake(cookie: "a=b\r\nX-Evil: 1").requestBytes()) {
            XCTAssertEqual(($0 as? WebSocketError)?.reason, .invalidRequestHeader("Cookie"))
        }
    }

    func testAcceptValueOfRFCExample() {
        XCTAssertEqual(
            WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    private let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    private func response(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) }
    private var goodLines: [String] {
        [
            "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Accept: " + accept,
        ]
    }

    private func verdict(_ bytes: [UInt8], limit: Int = 8192) -> Result<
        WebSocketHandshakeParser.Progress, WebSocketError
    > {
        var parser = WebSocketHandshakeParser(expectedAccept: accept, maxHeaderBytes: limit)
        return Result { () throws(WebSocketError) in try parser.feed(bytes) }
    }

    private func assertRejected(
        _ bytes: [UInt8], _ reason: WebSocketError.Reason, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard case .failure(let error) = verdict(bytes) else { return XCTFail("accepted", file: file, line: line) }
        XCTAssertEqual(error.reason, reason, file: file, line: line)
        XCTAssertTrue(error.isHandshake, file: file, line: line)
    }

    func testAcceptsValidResponseInAnySplitAndReportsWhereFramesStart() throws {
        let head = response([
            "HTTP/1.1 101 Switching Protocols", "upgrade: WebSocket", "connection: keep-alive, Upgrade",
            "sec-websocket-accept:   " + accept + "  ", "Server: test",
        ])
        let bytes = head + [0x82, 0x01, 0x2A]
        for cut in 0...bytes.count {
            var parser = WebSocketHandshakeParser(expectedAccept: accept)
            let first = try parser.feed(Array(bytes[..<cut]))
            if cut >= head.count {
                XCTAssertEqual(first, .done(bytesConsumed: head.count), "cut \(cut)")
            } else {
                XCTAssertEqual(first, .needMore, "cut \(cut)")
                XCTAssertEqual(
                    try parser.feed(Array(bytes[cut...])), .done(bytesConsumed: head.count - cut), "cut \(cut)")
            }
        }
    }

    func testTypedRejections() {
        assertRejected(
            response(["HTTP/1.1 403 Forbidden", "Content-Length: 0"]), .unexpectedStatus(403, reason: "Forbidden"))
        assertRejected(response(["HTTP/1.1 200 OK"]), .unexpectedStatus(200, reason: "OK"))
        assertRejected(response(["SSH-2.0-OpenSSH_9.6"]), .badStatusLine("SSH-2.0-OpenSSH_9.6"))
        assertRejected(response(["HTTP/1.1 1O1 Switching"]), .badStatusLine("HTTP/1.1 1O1 Switching"))
        assertRejected(
            response(["HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Sec-WebSocket-Accept: " + accept]),
            .missingUpgrade)
        assertRejected(
            response(["HTTP/1.1 101 Switching Protocols", "Upgrade: h2c", "Connection: Upgrade"]), .missingUpgrade)
        assertRejected(
            response(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Sec-WebSocket-Accept: " + accept]),
            .missingConnectionUpgrade)
        assertRejected(
            response(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"]), .missingAccept)
        assertRejected(
            response([
                "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ]),
            .wrongAccept(expected: accept, received: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        assertRejected(
            response(goodLines + ["Sec-WebSocket-Extensions: permessage-deflate"]),
            .unrequestedExtension("sec-websocket-extensions"))
        assertRejected(response(goodLines + ["no colon here"]), .malformedHeader("no colon here"))
        assertRejected(response(goodLines + ["Bad Name: x"]), .malformedHeader("Bad Name: x"))
    }

    func testOversizeHeaderBlockStopsAtTheLimit() {
        var parser = WebSocketHandshakeParser(expectedAccept: accept, maxHeaderBytes: 100)
        let endless = Array(
            ("HTTP/1.1 101 Switching Protocols\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 20)).utf8)
        XCTAssertThrowsError(try parser.feed(endless)) {
            XCTAssertEqual(($0 as? WebSocketError)?.reason, .headerBlockTooLarge(limit: 100))
        }
    }

    /// The whole client layer against a scripted server: upgrade, a frame in the same read as the 101, ping →
    /// masked pong, fragmented message, the server's close echoed with its code.
    func testLayerAgainstScriptedServer() throws {
        let handshake = makeHandshake()
        var layer = WebSocketLayer(handshake: handshake, random: FixedWords([0x37fa_213d]))
        XCTAssertFalse(try layer.start().isEmpty)
        XCTAssertTrue(layer.wrap([1]).isEmpty, "nothing is sent before the upgrade completes")
        var server = WebSocketFrameEncoder(masks: false)
        var bytes = response([
            "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Accept: " + handshake.expectedAccept,
        ])
        server.encode(.binary, payload: [1, 2, 3], into: &bytes)
        var output = try layer.feed(bytes)
        XCTAssertTrue(output.opened)
        XCTAssertEqual(output.messages, [[1, 2, 3]])
        XCTAssertEqual(layer.state, .open)

        bytes = []
        server.encode(.binary, payload: [4], fin: false, into: &bytes)
        server.encode(.ping, payload: Array("hb".utf8), into: &bytes)
        server.encode(.continuation, payload: [5], into: &bytes)
        output = try layer.feed(bytes)
        XCTAssertEqual(output.messages, [[4, 5]])
        var reader = WebSocketFrameDecoder(role: .server)
        XCTAssertEqual(
            try reader.feed(output.outgoing), [.pong(Array("hb".utf8))], "a ping is answered with a masked pong")

        XCTAssertEqual(try reader.feed(layer.wrap([9, 9])), [.message(.binary, [9, 9])])

        bytes = []
        server.encodeClose(WebSocketClose(code: WebSocketCloseCode(4000), reason: "bye"), into: &bytes)
        output = try layer.feed(bytes)
        XCTAssertEqual(output.closed, WebSocketClose(code: WebSocketCloseCode(4000), reason: "bye"))
        XCTAssertEqual(try reader.feed(output.outgoing), [.close(WebSocketClose(code: WebSocketCloseCode(4000)))])
        XCTAssertEqual(layer.state, .closed)
        XCTAssertTrue(layer.wrap([1]).isEmpty)
    }

    func testLayerFailureFrameCarriesTheCloseCode() throws {
        let handshake = makeHandshake()
        var layer = WebSocketLayer(handshake: handshake, limits: .init(maxFrameSize: 10, maxMessageSize: 10))
        _ = try layer.feed(
            response([
                "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Accept: " + handshake.expectedAccept,
            ]))
        XCTAssertThrowsError(try layer.feed([0x82, 0x0B])) { error in
            guard let error = error as? WebSocketError else { return XCTFail("untyped") }
            XCTAssertEqual(error.reason, .frameTooLarge(11, limit: 10))
            var reader = WebSocketFrameDecoder(role: .server)
            XCTAssertEqual(
                try? reader.feed(layer.failureFrame(for: error)), [.close(WebSocketClose(code: .messageTooBig))])
        }
    }
}
