import EventLoop
import XCTest

@testable import DanmuClient

/// The server side of the upgrade: our client's request (split anywhere) parses, the 101 it builds satisfies our
/// client's check, and bad requests are refused with a reason.
final class WebSocketUpgradeRequestTests: XCTestCase {
    private func clientHandshake() -> WebSocketHandshake {
        // Not the empty SystemRandomNumberGenerator passed inout: TSan crashed on it (see CollectorCore).
        var random = SplitMix64(seed: .random(in: .min ... .max))
        return WebSocketHandshake(
            host: "localhost", port: 2244, secure: false, userAgent: "Mozilla/5.0", cookie: "buvid3=x", random: &random)
    }

    func testClientRequestParsesAtEverySplitAndTheAnswerPassesTheClientCheck() throws {
        let handshake = clientHandshake()
        let request = try handshake.requestBytes()
        for split in [1, 7, request.count / 2, request.count - 1] {
            var parser = WebSocketUpgradeRequestParser()
            XCTAssertEqual(try parser.feed(Array(request[..<split])), .needMore)
            guard case .done(let parsed, let consumed) = try parser.feed(Array(request[split...]) + [0x82]) else {
                return XCTFail("not done at split \(split)")
            }
            XCTAssertEqual(consumed, request.count - split, "the byte after the head is a frame")
            XCTAssertEqual(parsed.path, "/sub")
            XCTAssertEqual(parsed.key, handshake.key)
            XCTAssertEqual(parsed.header("user-agent"), "Mozilla/5.0")
            XCTAssertEqual(parsed.header("origin"), "https://live.bilibili.com")
            var client = WebSocketHandshakeParser(expectedAccept: handshake.expectedAccept)
            XCTAssertEqual(
                try client.feed(parsed.switchingProtocols()), .done(bytesConsumed: parsed.switchingProtocols().count))
        }
    }

    func testBadRequestsAreRefusedWithAReason() {
        let good = String(decoding: try! clientHandshake().requestBytes(), as: UTF8.self)
        let cases: [(String, String)] = [
            (good.replacingFirst("GET ", with: "POST "), "bad status line"),
            (good.replacingFirst("HTTP/1.1", with: "HTTP/1.0"), "bad status line"),
            (good.replacingFirst("Upgrade: websocket", with: "Upgrade: h2c"), "Upgrade: websocket"),
            (good.replacingFirst("Connection: Upgrade", with: "Connection: keep-alive"), "Connection: Upgrade"),
            (good.replacingFirst("Sec-WebSocket-Version: 13", with: "Sec-WebSocket-Version: 8"), "Version"),
            (good.replacingFirst("Sec-WebSocket-Key: ", with: "Sec-WebSocket-Key: AAAA"), "Sec-WebSocket-Key"),
        ]
        for (text, expected) in cases {
            var parser = WebSocketUpgradeRequestParser()
            XCTAssertThrowsError(try parser.feed(Array(text.utf8)), expected) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) lacks \(expected)")
            }
        }
        var parser = WebSocketUpgradeRequestParser(maxHeaderBytes: 64)
        XCTAssertThrowsError(try parser.feed(Array(good.utf8))) { error in
            XCTAssertEqual(error as? WebSocketError, WebSocketError(.headerBlockTooLarge(limit: 64)))
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
