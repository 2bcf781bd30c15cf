import TestSupport
import XCTest

@testable import DanmuClient

/// TransportStack: the same packet bytes in and out over tcp, ws and wss; the server side here is scripted
/// (our TLS server layer, an unmasked frame encoder, a 101 built from the request's key).
final class WebSocketTransportStackTests: XCTestCase {
    private let auth: [UInt8] = [0, 0, 0, 18, 0, 16, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0x7B, 0x7D]
    private let packets: [UInt8] =
        [0, 0, 0, 20, 0, 16, 0, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 9]
        + [0, 0, 0, 18, 0, 16, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0x7B, 0x7D]

    private func makeLayer() -> WebSocketLayer {
        var random = SplitMixRandom(seed: 1)
        return WebSocketLayer(
            handshake: WebSocketHandshake(host: "localhost", port: 2245, secure: true, random: &random),
            random: SplitMixRandom(seed: 2))
    }

    /// The server's answer to an upgrade request: 101 with the accept value of the request's key.
    private func upgradeResponse(to request: [UInt8]) -> [UInt8] {
        let text = String(decoding: request, as: UTF8.self)
        let line = text.split(separator: "\r\n").first { $0.hasPrefix("Sec-WebSocket-Key: ") }!
        let key = String(line.dropFirst("Sec-WebSocket-Key: ".count))
        return Array(
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n").utf8)
    }

    func testTCPIsAPassthrough() throws {
        var stack = TransportStack.tcp()
        XCTAssertTrue(try stack.start().ready)
        XCTAssertEqual(try stack.wrap(auth), auth)
        XCTAssertEqual(try stack.feed(packets).packetBytes, packets)
    }

    func testWSDeliversConcatenatedMessagePayloadsAsPacketBytes() throws {
        var stack = TransportStack.ws(makeLayer())
        let start = try stack.start()
        XCTAssertFalse(start.ready)
        XCTAssertTrue(try stack.wrap(auth).isEmpty, "nothing before the upgrade")
        var server = WebSocketFrameEncoder(masks: false)
        var bytes = upgradeResponse(to: start.outgoing)
        server.encode(.binary, payload: packets[..<20], into: &bytes)
        server.encode(.ping, payload: [1], into: &bytes)
        server.encode(.binary, payload: packets[20...], into: &bytes)
        let output = try stack.feed(bytes)
        XCTAssertTrue(output.ready)
        XCTAssertEqual(output.packetBytes, packets)
        var reader = WebSocketFrameDecoder(role: .server)
        XCTAssertEqual(try reader.feed(output.outgoing), [.pong([1])])
        XCTAssertEqual(try reader.feed(stack.wrap(auth)), [.message(.binary, auth)])
    }

    func testWSSOverAnInMemoryTLSServer() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let serverTLS = try TLSLayer(
            serverContext: TLSContext(
                certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey))
        let clientTLS = try TLSLayer(
            context: TLSContext(verification: .caFile(certificates.caFile)), serverName: "localhost")
        var stack = TransportStack.wss(makeLayer(), over: clientTLS)
        var toServer = try stack.start().outgoing
        var request: [UInt8] = []
        var answered = false
        var packetBytes: [UInt8] = []
        var ready = false
        var reader = WebSocketFrameDecoder(role: .server)
        var received: [WebSocketFrameDecoder.Event] = []
        var sentAuth = false
        for _ in 0..<20 {
            let serverOutput = try serverTLS.feed(toServer)
            toServer = []
            var toClient = serverOutput.outgoing
            if !answered {
                request += serverOutput.plaintext
                if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] {
                    answered = true
                    var reply = upgradeResponse(to: request)
                    var server = WebSocketFrameEncoder(masks: false)
                    server.encode(.binary, payload: packets, into: &reply)
                    toClient += try serverTLS.wrap(reply)
                }
            } else {
                received += try reader.feed(serverOutput.plaintext)
            }
            if toClient.isEmpty && sentAuth { break }
            let output = try stack.feed(toClient)
            packetBytes += output.packetBytes
            ready = ready || output.ready
            toServer = output.outgoing
            if ready && !sentAuth {
                sentAuth = true
                toServer += try stack.wrap(auth)
            }
        }
        XCTAssertTrue(ready)
        XCTAssertEqual(packetBytes, packets)
        XCTAssertEqual(received, [.message(.binary, auth)])
        XCTAssertEqual(stack.tlsLayer?.protocolVersion, "TLSv1.3")
        // Closing writes a masked close frame and close_notify; the server reads both.
        let closing = try serverTLS.feed(stack.close())
        XCTAssertTrue(closing.closed)
        XCTAssertEqual(try reader.feed(closing.plaintext), [.close(WebSocketClose(code: .normalClosure))])
    }

    func testFramingErrorGivesACloseFrameWithItsCode() throws {
        var stack = TransportStack.ws(makeLayer())
        let start = try stack.start()
        _ = try stack.feed(upgradeResponse(to: start.outgoing))
        XCTAssertThrowsError(try stack.feed([0x83, 0x00])) { error in
            guard let error = error as? TransportError else { return XCTFail("untyped \(error)") }
            XCTAssertEqual(error, .webSocket(WebSocketError(.unknownOpcode(3))))
            var reader = WebSocketFrameDecoder(role: .server)
            XCTAssertEqual(
                try? reader.feed(stack.failureBytes(for: error)), [.close(WebSocketClose(code: .protocolError))])
        }
    }
}
