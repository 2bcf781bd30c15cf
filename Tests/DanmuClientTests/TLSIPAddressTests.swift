import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// A wss host given as an IP literal is verified against the certificate's iPAddress SANs
/// (X509_VERIFY_PARAM_set1_ip_asc), not as a DNS name, and gets no SNI (RFC 6066 §3). Certificates are made
/// here with the openssl CLI, signed by the test CA of Scripts/make_test_certificates.sh.
final class TLSIPAddressTests: XCTestCase {
    private var certificates: TestCertificates!

    override func setUpWithError() throws {
        certificates = try TestCertificates()
        // ip.pem: only an iPAddress SAN and an unrelated CN. dns-ip.pem: a dNSName that spells the address
        // (what a host-name check would match). ipv6.pem: IP:::1.
        let script = """
            set -e; cd '\(certificates.directory)'
            make() {
              openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
                -subj "/CN=$2" 2>/dev/null
              printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' "$3" > "$1.cnf"
              openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 \
                -extfile "$1.cnf" 2>/dev/null
            }
            make ip "danmu ip test" IP:127.0.0.1
            make dns-ip 127.0.0.1 DNS:127.0.0.1
            make ipv6 "danmu ipv6 test" IP:::1
            """
        XCTAssertEqual(system(script), 0, "openssl could not make the IP test certificates")
    }

    override func tearDown() { certificates?.remove() }

    /// The handshake in memory: client `serverName` against a server with certificate `name`; returns the
    /// server layer (for the SNI it saw) or throws the client's TLSError.
    private func handshake(serverName: String, certificate name: String) throws -> (TLSLayer, TLSLayer) {
        let serverContext = try TLSContext(
            certificateChainFile: certificates.directory + "/\(name).pem",
            privateKeyFile: certificates.directory + "/\(name).key")
        let server = try TLSLayer(serverContext: serverContext)
        let client = try TLSLayer(
            context: TLSContext(verification: .caFile(certificates.caFile)), serverName: serverName)
        var toServer = try client.start()
        var toClient: [UInt8] = []
        for _ in 0..<20 where !toServer.isEmpty || !toClient.isEmpty {
            // The server may fail on the client's alert after a refusal; the client's error is what we test.
            let fromServer = (try? server.feed(toServer))?.outgoing ?? []
            toServer = []
            toClient += fromServer
            let fromClient = try client.feed(toClient)
            toClient = []
            toServer += fromClient.outgoing
        }
        return (client, server)
    }

    private func rejection(serverName: String, certificate: String) -> TLSError? {
        do {
            let (client, _) = try handshake(serverName: serverName, certificate: certificate)
            XCTFail("\(certificate).pem accepted for \(serverName) (state \(client.state))")
            return nil
        } catch let error as TLSError {
            return error
        } catch {
            XCTFail("unexpected \(error)")
            return nil
        }
    }

    func testIPAddressSANIsAcceptedForAnIPHostAndNoSNIIsSent() throws {
        let (client, server) = try handshake(serverName: "127.0.0.1", certificate: "ip")
        XCTAssertEqual(client.state, .open)
        XCTAssertNil(server.requestedServerName, "no SNI for an IP literal (RFC 6066 §3)")
    }

    func testDNSNameSpellingTheAddressIsRefusedWithAClearError() throws {
        let error = try XCTUnwrap(rejection(serverName: "127.0.0.1", certificate: "dns-ip"))
        guard case .certificateRejected(let code, _) = error.reason else { return XCTFail("\(error)") }
        XCTAssertEqual(code, 64, error.description)  // X509_V_ERR_IP_ADDRESS_MISMATCH
        XCTAssertTrue(error.description.contains("IP address mismatch"), error.description)
    }

    func testAnotherAddressIsRefused() throws {
        let error = try XCTUnwrap(rejection(serverName: "127.0.0.2", certificate: "ip"))
        guard case .certificateRejected(64, _) = error.reason else { return XCTFail("\(error)") }
    }

    func testBracketedIPv6LiteralMatchesItsSAN() throws {
        let (client, server) = try handshake(serverName: "[::1]", certificate: "ipv6")
        XCTAssertEqual(client.state, .open)
        XCTAssertNil(server.requestedServerName)
        let refused = try XCTUnwrap(rejection(serverName: "::1", certificate: "ip"))
        guard case .certificateRejected(64, _) = refused.reason else { return XCTFail("\(refused)") }
    }

    func testAHostNameStillSendsSNIAndIsCheckedAsADNSName() throws {
        let (client, server) = try handshake(serverName: "localhost", certificate: "server")
        XCTAssertEqual(client.state, .open)
        XCTAssertEqual(server.requestedServerName, "localhost")
        let error = try XCTUnwrap(rejection(serverName: "localhost", certificate: "ip"))
        guard case .certificateRejected(62, _) = error.reason else { return XCTFail("\(error)") }  // HOSTNAME_MISMATCH
    }
}
