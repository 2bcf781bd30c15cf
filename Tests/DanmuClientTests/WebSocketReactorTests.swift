import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// The transport layers on the repo's Reactor (non-blocking socket, one shared read buffer, the TLS handshake
/// driven only by the bytes the loop reads): the phase-2 wiring in miniature, against Python's `websockets`.
final class WebSocketReactorTests: XCTestCase {
    private static let packet: [UInt8] =
        [0, 0, 0, 31, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1] + Array("[object Object]".utf8)

    /// A ConnectionHandler that owns a TransportStack. Loop-confined fields are touched only in callbacks; the
    /// test reads `result` through its lock.
    private final class StackClient: ConnectionHandler, @unchecked Sendable {
        struct Result {
            var packetBytes: [UInt8] = []
            var ready = false
            var closed: TransportStack.Closed?
            var error: String?
            var closeReason: String?
        }

        let reactor: Reactor
        private var stack: TransportStack  // IO thread only
        private var sentEchoes = false  // IO thread only
        let result = Lock(Result())

        init(reactor: Reactor, stack: TransportStack) {
            self.reactor = reactor
            self.stack = stack
        }

        func connectionDidOpen(_ connection: ConnectionID) {
            do {
                let output = try stack.start()
                reactor.write(connection, output.outgoing)
            } catch {
                fail(connection, error)
            }
        }

        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            do {
                let output = try stack.feed(bytes)
                if !output.outgoing.isEmpty { reactor.write(connection, output.outgoing) }
                let all = result.withLock { state in
                    state.packetBytes += output.packetBytes
                    state.ready = state.ready || output.ready
                    state.closed = state.closed ?? output.closed
                    return state.packetBytes
                }
                if !sentEchoes, all.count >= 7, all.suffix(7) == Array("pong-ok".utf8) {
                    sentEchoes = true
                    reactor.write(connection, try stack.wrap(WebSocketReactorTests.packet))
                    reactor.write(connection, try stack.wrap(Array("close-me".utf8)))
                }
                if output.closed != nil { reactor.closeAfterFlush(connection) }
            } catch {
                reactor.write(connection, stack.failureBytes(for: error))
                fail(connection, error)
            }
        }

        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
            result.withLock { $0.closeReason = "\(reason)" }
        }

        func connectionDidDrainWrites(_ connection: ConnectionID) {}

        private func fail(_ connection: ConnectionID, _ error: any Error) {
            result.withLock { $0.error = "\(error)" }
            reactor.closeAfterFlush(connection)
        }
    }

    private func run(secure: Bool) throws {
        try ReferenceServer.requirePython(module: "websockets")
        var certificates: TestCertificates?
        defer { certificates?.remove() }
        var arguments: [String] = []
        if secure {
            certificates = try TestCertificates()
            arguments = ["--tls", certificates!.serverCertificate, certificates!.serverKey]
        }
        let server = try ReferenceServer(script: "ws_reference_server.py", arguments: arguments)
        // Not the empty SystemRandomNumberGenerator passed inout: TSan crashed on it (see CollectorCore).
        var random = SplitMix64(seed: .random(in: .min ... .max))
        let layer = WebSocketLayer(
            handshake: WebSocketHandshake(
                host: "localhost", port: Int(server.port), secure: secure, userAgent: "Mozilla/5.0 (danmu test)",
                cookie: "buvid3=abc; SESSDATA=x", random: &random))
        let stack: TransportStack
        if let certificates {
            let context = try TLSContext(verification: .caFile(certificates.caFile))
            stack = .wss(layer, over: try TLSLayer(context: context, serverName: "localhost"))
        } else {
            stack = .ws(layer)
        }

        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let client = StackClient(reactor: reactor, stack: stack)
        let port = server.port
        let connected: String? =
            reactor.executeAndWait {
                do throws(SystemError) {
                    _ = try reactor.connect(to: .loopback(port: port), timeout: .seconds(10), handler: client)
                    return nil
                } catch {
                    return "\(error)"
                }
            } ?? "reactor not running"
        XCTAssertNil(connected)
        XCTAssertTrue(
            pollUntil(timeout: .seconds(30), interval: .milliseconds(10)) {
                client.result.withLock { $0.closeReason != nil }
            })
        let result = client.result.withLock { $0 }
        XCTAssertNil(result.error)
        XCTAssertTrue(result.ready)
        XCTAssertEqual(result.closed, .webSocket(WebSocketClose(code: WebSocketCloseCode(4000), reason: "bye")))
        let expectedTail =
            Array("one".utf8) + Array("frag-ment-ed".utf8) + (0..<70000).map { UInt8(($0 * 7) % 256) }
            + Array("pong-ok".utf8) + Self.packet
        XCTAssertEqual(Array(result.packetBytes.suffix(expectedTail.count)), expectedTail)
        let info = String(
            decoding: result.packetBytes.prefix(result.packetBytes.count - expectedTail.count), as: UTF8.self)
        XCTAssertTrue(info.contains("\"path\": \"/sub\""), info)
        XCTAssertEqual(server.stop(waiting: 10), 0)
    }

    func testWSOnTheReactorAgainstPythonWebsockets() throws { try run(secure: false) }

    func testWSSOnTheReactorAgainstPythonWebsockets() throws { try run(secure: true) }
}
