import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// The TLS layer: the dlopen binding's failure mode, in-memory handshakes between our client and server layers
/// (deterministic, no sockets), and loopback runs against Python's `ssl` server (Scripts/tls_reference_server.py).
final class TLSLayerTests: XCTestCase {
    func testMissingLibraryIsATypedErrorNamingThePackage() {
        XCTAssertThrowsError(try TLSLibrary(path: "libssl.so.999")) { error in
            guard let error = error as? TLSError, case .libraryMissing = error.reason else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue(error.description.contains("libssl3"), error.description)
        }
    }

    func testUnreadableCAFileIsReported() {
        XCTAssertThrowsError(try TLSContext(verification: .caFile("/nonexistent/ca.pem"))) { error in
            guard let error = error as? TLSError, case .caFileUnusable(let path, _) = error.reason else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, "/nonexistent/ca.pem")
        }
    }

    /// Shuttles bytes between a client and a server layer until both are quiet; returns their plaintexts.
    private func pump(_ client: TLSLayer, _ server: TLSLayer, first: [UInt8]) throws -> (
        toClient: [UInt8], toServer: [UInt8]
    ) {
        var toServer = first
        var toClient: [UInt8] = []
        var clientPlain: [UInt8] = []
        var serverPlain: [UInt8] = []
        for _ in 0..<20 where !toServer.isEmpty || !toClient.isEmpty {
            let s = try server.feed(toServer)
            toServer = []
            serverPlain += s.plaintext
            toClient += s.outgoing
            let c = try client.feed(toClient)
            toClient = []
            clientPlain += c.plaintext
            toServer += c.outgoing
        }
        return (clientPlain, serverPlain)
    }

    func testInMemoryHandshakeRoundTripAndResumption() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let serverContext = try TLSContext(
            certificateChainFile: certificates.serverCertificate, privateKeyFile: certificates.serverKey)
        let clientContext = try TLSContext(verification: .caFile(certificates.caFile))

        var session: TLSSession?
        for round in 0..<2 {
            let client = try TLSLayer(context: clientContext, serverName: "localhost", session: session)
            let server = try TLSLayer(serverContext: serverContext)
            XCTAssertTrue(try server.start().isEmpty)
            let hello = try client.start()
            XCTAssertFalse(hello.isEmpty)
            // Queued before the handshake ends, sent right after it.
            XCTAssertTrue(try client.wrap(Array("GET /sub".utf8)).isEmpty)
            var (toClient, toServer) = try pump(client, server, first: hello)
            XCTAssertEqual(client.state, .open)
            XCTAssertEqual(toServer, Array("GET /sub".utf8))
            (toClient, toServer) = try pump(
                client, server, first: try client.wrap([UInt8](repeating: 7, count: 40_000)))
            XCTAssertEqual(toServer.count, 40_000)
            let reply = try server.wrap(Array("101".utf8))
            XCTAssertEqual(try client.feed(reply).plaintext, Array("101".utf8))
            XCTAssertEqual(client.protocolVersion, "TLSv1.3")
            XCTAssertEqual(client.isSessionReused, round == 1, "round \(round)")
            session = client.session
            XCTAssertEqual(session?.isResumable, true)
            // close_notify both ways.
            let output = try server.feed(client.close())
            XCTAssertTrue(output.closed)
            _ = toClient
        }
    }

    func testInsecureModeAcceptsAnUntrustedCertificateAndVerifyingModeRefusesIt() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let serverContext = try TLSContext(
            certificateChainFile: certificates.untrustedCertificate, privateKeyFile: certificates.untrustedKey)
        let insecure = try TLSLayer(context: TLSContext(verification: .insecureNoVerification), serverName: "localhost")
        _ = try pump(insecure, TLSLayer(serverContext: serverContext), first: insecure.start())
        XCTAssertEqual(insecure.state, .open)

        let strict = try TLSLayer(
            context: TLSContext(verification: .caFile(certificates.caFile)), serverName: "localhost")
        XCTAssertThrowsError(try pump(strict, TLSLayer(serverContext: serverContext), first: strict.start())) { error in
            guard let error = error as? TLSError, case .certificateRejected(let code, _) = error.reason else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue([18, 19, 20].contains(code), "X509 error \(code): \(error)")
        }
    }

    // MARK: against Python's ssl module

    /// Handshake and echo over loopback; returns the layer after `payload` came back.
    private func echo(port: UInt16, context: TLSContext, serverName: String, session: TLSSession?, payload: [UInt8])
        throws -> TLSLayer
    {
        let socket = try LoopbackSocket(port: port)
        let layer = try TLSLayer(context: context, serverName: serverName, session: session)
        try socket.send(layer.start())
        try socket.send(layer.wrap(payload))
        var received: [UInt8] = []
        while received.count < payload.count {
            let bytes = try socket.receive()
            if bytes.isEmpty { throw LoopbackSocket.SocketError(description: "server closed early") }
            let output = try layer.feed(bytes)
            try socket.send(output.outgoing)
            received += output.plaintext
        }
        XCTAssertEqual(received, payload)
        try socket.send(layer.close())
        return layer
    }

    /// Expects the handshake to fail with a certificate error; returns it.
    private func handshakeFailure(port: UInt16, context: TLSContext, serverName: String) throws -> TLSError? {
        let socket = try LoopbackSocket(port: port)
        let layer = try TLSLayer(context: context, serverName: serverName)
        try socket.send(layer.start())
        while true {
            let bytes = try socket.receive()
            if bytes.isEmpty { return nil }
            do {
                try socket.send(layer.feed(bytes).outgoing)
            } catch let error as TLSError {
                return error
            }
        }
    }

    func testAgainstPythonSSLServer() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try ReferenceServer(
            script: "tls_reference_server.py",
            arguments: [certificates.serverCertificate, certificates.serverKey, "--connections", "4"])
        let context = try TLSContext(verification: .caFile(certificates.caFile))
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }

        let first = try echo(
            port: server.port, context: context, serverName: "localhost", session: nil, payload: payload)
        XCTAssertFalse(first.isSessionReused)
        let session = first.session
        XCTAssertEqual(session?.isResumable, true)
        let second = try echo(
            port: server.port, context: context, serverName: "localhost", session: session, payload: payload)
        XCTAssertTrue(second.isSessionReused, "the second connection resumes the first one's session")

        let wrongName = try handshakeFailure(port: server.port, context: context, serverName: "live.bilibili.com")
        guard case .certificateRejected(let code, let detail)? = wrongName?.reason else {
            return XCTFail("wrong host name accepted or other error: \(String(describing: wrongName))")
        }
        XCTAssertEqual(code, 62, detail)  // X509_V_ERR_HOSTNAME_MISMATCH
        XCTAssertTrue(wrongName!.description.lowercased().contains("hostname mismatch"), wrongName!.description)

        // The system store does not know the test CA.
        let untrusted = try handshakeFailure(
            port: server.port, context: TLSContext(verification: .systemTrustStore), serverName: "localhost")
        guard case .certificateRejected(let code2, _)? = untrusted?.reason else {
            return XCTFail("untrusted certificate accepted or other error: \(String(describing: untrusted))")
        }
        XCTAssertTrue([19, 20].contains(code2), untrusted!.description)
        XCTAssertEqual(server.stop(waiting: 10), 0)
    }
}
