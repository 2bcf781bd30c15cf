import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

/// `Reactor.connect(to:from:timeout:handler:)`: the socket is bound to the chosen source before connecting.
final class BindAddressTests: XCTestCase {
    /// Records the peer address of every accepted connection.
    private final class PeerRecordingListener: ListenerHandler, @unchecked Sendable {
        let peers = Lock<[SocketAddress]>([])

        func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
            -> any ConnectionHandler
        {
            peers.withLock { $0.append(peer) }
            return RecordingHandler()
        }

        var snapshot: [SocketAddress] { peers.withLock { $0 } }
    }

    func testConnectionsFromTwoLoopbackSourcesArriveFromThem() throws {
        try withReactor { reactor in
            let listener = PeerRecordingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let sources = [
                try SocketAddress(ipv4: "127.0.0.2", port: 0), try SocketAddress(ipv4: "127.0.0.3", port: 0),
            ]
            let clients = (0..<6).map { _ in RecordingHandler() }
            let box = UncheckedBox(value: clients)
            try onLoop(reactor) {
                for (index, client) in box.value.enumerated() {
                    _ = try reactor.connect(
                        to: address, from: sources[index % 2], timeout: .seconds(10), handler: client)
                }
            }
            XCTAssertTrue(waitUntil(timeout: 20) { listener.snapshot.count == 6 }, "accepted: \(listener.snapshot)")
            XCTAssertTrue(waitUntil(timeout: 20) { clients.allSatisfy { $0.snapshot.opened == 1 } })
            let peers = listener.snapshot
            XCTAssertEqual(peers.filter { $0.ipv4 == sources[0].ipv4 }.count, 3, "peers: \(peers)")
            XCTAssertEqual(peers.filter { $0.ipv4 == sources[1].ipv4 }.count, 3, "peers: \(peers)")
            // Port 0 asked the kernel for an ephemeral port: every peer has a real, distinct one.
            XCTAssertTrue(peers.allSatisfy { $0.port != 0 }, "peers: \(peers)")
            XCTAssertEqual(Set(peers).count, 6, "peers: \(peers)")
            for client in clients { XCTAssertEqual(client.snapshot.closes, []) }
        }
    }

    func testWithoutSourceTheKernelChoosesLoopback() throws {
        try withReactor { reactor in
            let listener = PeerRecordingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let box = UncheckedBox(value: client)
            try onLoop(reactor) {
                _ = try reactor.connect(to: address, from: nil, timeout: .seconds(10), handler: box.value)
            }
            XCTAssertTrue(waitUntil(timeout: 20) { listener.snapshot.count == 1 })
            XCTAssertEqual(listener.snapshot.first?.ipv4, SocketAddress.loopback(port: 0).ipv4)
        }
    }

    func testSourceNotOnThisHostFailsThatConnectOnly() throws {
        try withReactor { reactor in
            let listener = PeerRecordingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no host: bind(2) refuses it before any packet is sent.
            let absent = try SocketAddress(ipv4: "192.0.2.1", port: 0)
            let failing = RecordingHandler()
            let working = RecordingHandler()
            let box = UncheckedBox(value: (failing, working))
            let thrown: SystemError? = try onLoop(reactor) {
                var caught: SystemError?
                do throws(SystemError) {
                    _ = try reactor.connect(to: address, from: absent, timeout: .seconds(10), handler: box.value.0)
                } catch {
                    caught = error
                }
                _ = try reactor.connect(to: address, timeout: .seconds(10), handler: box.value.1)
                return caught
            }
            XCTAssertEqual(thrown?.errno, .addressNotAvailable, "thrown: \(String(describing: thrown))")
            XCTAssertEqual(thrown?.operation, "bind(192.0.2.1:0)")
            XCTAssertTrue(waitUntil(timeout: 20) { working.snapshot.opened == 1 })
            XCTAssertEqual(listener.snapshot.count, 1)
            XCTAssertEqual(failing.snapshot.opened, 0)
            XCTAssertEqual(failing.snapshot.closes, [])
            // The failed connect left no descriptor or slot behind: listener + one connection each side.
            XCTAssertEqual(try onLoop(reactor) { reactor.registrationCount }, 3)
        }
    }
}
