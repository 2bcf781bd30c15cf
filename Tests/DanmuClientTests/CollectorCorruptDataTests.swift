import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// A scripted server: the n-th accepted connection gets `scripts[n]` written right after the client's first
/// bytes (its AUTH). Loop-confined on the test's own reactor.
private final class ScriptedServer: ListenerHandler, @unchecked Sendable {
    final class Connection: ConnectionHandler {
        let server: ScriptedServer
        let script: [UInt8]
        var sent = false
        init(server: ScriptedServer, script: [UInt8]) {
            self.server = server
            self.script = script
        }
        func connectionDidOpen(_ connection: ConnectionID) {}
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            guard !sent else { return }
            sent = true
            server.reactor.write(connection, script)
        }
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
    }

    let reactor: Reactor
    let scripts: [[UInt8]]
    let accepted = Atomic<Int>(0)

    init(reactor: Reactor, scripts: [[UInt8]]) {
        self.reactor = reactor
        self.scripts = scripts
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        let index = accepted.add(1, ordering: .relaxed).oldValue
        return Connection(server: self, script: scripts[min(index, scripts.count - 1)])
    }
}

/// Damage only a worker can see (corrupt compression, malformed JSON) handled per room.
final class CollectorCorruptDataTests: XCTestCase {
    func testCorruptZlibReconnectsRoomAndMalformedJSONIsSkippedAndCounted() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let auth = Packet.authReply(code: 0)
        let corruptZlib = Packet.encode(operation: 5, protover: 2, sequence: 0, body: [0x78, 0x9C, 0xFF, 0xFE, 0x01, 0x02])
        let malformed = Packet.encode(operation: 5, protover: 0, sequence: 0, body: Array(#"{"cmd":"#.utf8))
        let unknown = Packet.encode(operation: 5, protover: 0, sequence: 0, body: Array(#"{"cmd":"TEST_ONLY"}"#.utf8))
        let server = ScriptedServer(reactor: reactor, scripts: [auth + corruptZlib, auth + malformed + unknown])
        let address: Result<SocketAddress, SystemError> = try {
            let gate = CollectorGate()
            let result = CollectorLock<Result<SocketAddress, SystemError>?>(nil)
            reactor.execute {
                do throws(SystemError) {
                    let listener = try reactor.listen(on: SocketAddress.loopback(port: 0), handler: server)
                    result.withLock { $0 = .success(reactor.localAddress(of: listener)!) }
                } catch {
                    result.withLock { $0 = .failure(error) }
                }
                gate.open()
            }
            gate.wait()
            return try XCTUnwrap(result.withLock { $0 })
        }()
        let port = try address.get().port

        let unknownSeen = Atomic<Int>(0)
        let collector = try DanmuCollector(
            configuration: testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)))
        collector.setHandler(DanmuHandlers(event: { event in
            if case .unknown(let cmd, _) = event.event, cmd == "TEST_ONLY" { unknownSeen.add(1, ordering: .relaxed) }
        }))
        try collector.start()
        collector.add(room: 42)
        XCTAssertTrue(waitUntil { unknownSeen.load(ordering: .relaxed) == 1 }, "\(collector.statistics().rooms)")
        let room = try XCTUnwrap(collector.statistics()[room: 42])
        XCTAssertEqual(room.protocolErrors, 1, "corrupt zlib closes that connection")
        guard case .protocolError? = room.lastError else { return XCTFail("\(String(describing: room.lastError))") }
        XCTAssertEqual(room.reconnects, 1)
        XCTAssertEqual(room.malformedMessages, 1, "malformed JSON is skipped and counted")
        XCTAssertEqual(room.phase, .live, "a malformed message alone does not drop the connection")
        XCTAssertEqual(server.accepted.load(ordering: .relaxed), 2)
        collector.shutdown()
    }
}
