import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// Our client layers against Python's `websockets` server (Scripts/ws_reference_server.py), over a blocking
/// loopback socket: ws, and wss through the TLS layer. The script's docstring lists what it sends.
final class WebSocketInteropTests: XCTestCase {
    private let packet: [UInt8] = [0, 0, 0, 31, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1] + Array("[object Object]".utf8)

    /// Runs the scenario; returns the messages received and the server's close.
    private func runScenario(
        port: UInt16, tls: TLSLayer?, handshake: WebSocketHandshake
    ) throws -> (messages: [[UInt8]], close: WebSocketClose?, sawEOF: Bool) {
        let socket = try LoopbackSocket(port: port)
        var layer = WebSocketLayer(handshake: handshake)
        func write(_ plaintext: [UInt8]) throws {
            guard !plaintext.isEmpty else { return }
            if let tls { try socket.send(tls.wrap(plaintext)) } else { try socket.send(plaintext) }
        }
        if let tls { try socket.send(tls.start()) }
        try write(layer.start())
        var messages: [[UInt8]] = []
        var close: WebSocketClose?
        var sentEchoes = false
        while close == nil {
            let bytes = try socket.receive()
            if bytes.isEmpty { return (messages, close, true) }
            var plaintext = bytes
            if let tls {
                let output = try tls.feed(bytes)
                try socket.send(output.outgoing)
                plaintext = output.plaintext
            }
            guard !plaintext.isEmpty else { continue }
            let output = try layer.feed(plaintext)
            try write(output.outgoing)
            messages += output.messages
            close = output.closed
            if !sentEchoes, messages.count >= 5 {
                sentEchoes = true
                try write(layer.wrap(packet))
                try write(layer.wrap((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }))
                try write(layer.wrap(Array("close-me".utf8)))
            }
        }
        // After the close handshake the server closes TCP.
        var sawEOF = false
        for _ in 0..<10 {
            let bytes = try socket.receive()
            if bytes.isEmpty {
                sawEOF = true
                break
            }
            if let tls {
                let output = try tls.feed(bytes)
                try socket.send(output.outgoing)
                if output.closed {
                    sawEOF = true  // close_notify: the TLS-level end of stream (TCP closes right after)
                    break
                }
            }
        }
        return (messages, close, sawEOF)
    }

    private func checkScenario(_ result: (messages: [[UInt8]], close: WebSocketClose?, sawEOF: Bool)) {
        let messages = result.messages
        XCTAssertEqual(messages.count, 7, "messages: \(messages.map(\.count))")
        guard messages.count == 7 else { return }
        let info = String(decoding: messages[0], as: UTF8.self)
        XCTAssertTrue(info.contains("\"path\": \"/sub\""), info)
        XCTAssertTrue(info.contains("\"user_agent\": \"Mozilla/5.0 (danmu test)\""), info)
        XCTAssertTrue(info.contains("\"origin\": \"https://live.bilibili.com\""), info)
        XCTAssertTrue(info.contains("\"cookie\": \"buvid3=abc; SESSDATA=x\""), info)
        XCTAssertTrue(info.contains("\"version\": \"13\""), info)
        XCTAssertEqual(messages[1], Array("one".utf8))
        XCTAssertEqual(messages[2], Array("frag-ment-ed".utf8), "fragments with a ping between them")
        XCTAssertEqual(messages[3], (0..<70000).map { UInt8(($0 * 7) % 256) })
        XCTAssertEqual(messages[4], Array("pong-ok".utf8), "the server saw our pong")
        XCTAssertEqual(messages[5], packet)
        XCTAssertEqual(messages[6], (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        XCTAssertEqual(result.close, WebSocketClose(code: WebSocketCloseCode(4000), reason: "bye"))
        XCTAssertTrue(result.sawEOF, "the server closed TCP after the close handshake")
    }

    private func handshake(port: UInt16, secure: Bool) -> WebSocketHandshake {
        // Not the empty SystemRandomNumberGenerator passed inout: TSan crashed on it (see CollectorCore).
        var random = SplitMix64(seed: .random(in: .min ... .max))
        return WebSocketHandshake(
            host: "localhost", port: Int(port), secure: secure, userAgent: "Mozilla/5.0 (danmu test)",
            cookie: "buvid3=abc; SESSDATA=x", random: &random)
    }

    func testPlainWebSocketAgainstPythonWebsockets() throws {
        try ReferenceServer.requirePython(module: "websockets")
        let server = try ReferenceServer(script: "ws_reference_server.py", arguments: [])
        checkScenario(
            try runScenario(port: server.port, tls: nil, handshake: handshake(port: server.port, secure: false)))
        XCTAssertEqual(server.stop(waiting: 10), 0)
    }

    func testWebSocketOverTLSAgainstPythonWebsockets() throws {
        try ReferenceServer.requirePython(module: "websockets")
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try ReferenceServer(
            script: "ws_reference_server.py",
            arguments: ["--tls", certificates.serverCertificate, certificates.serverKey])
        let context = try TLSContext(verification: .caFile(certificates.caFile))
        let tls = try TLSLayer(context: context, serverName: "localhost")
        checkScenario(
            try runScenario(port: server.port, tls: tls, handshake: handshake(port: server.port, secure: true)))
        XCTAssertEqual(server.stop(waiting: 10), 0)
    }
}
