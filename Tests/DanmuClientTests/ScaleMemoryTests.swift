import EventLoop
import Glibc
import XCTest

@testable import DanmuClient

/// A server that answers the first bytes of each connection with AUTH_REPLY and then stays silent: the
/// cheapest possible peer, so that memory measured around it is mostly the collector's.
private final class QuietAuthServer: ListenerHandler, @unchecked Sendable {
    final class Connection: ConnectionHandler {
        unowned let reactor: Reactor
        var answered = false
        init(reactor: Reactor) { self.reactor = reactor }
        func connectionDidOpen(_ connection: ConnectionID) {}
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            guard !answered else { return }
            answered = true
            reactor.write(connection, Packet.authReply(code: 0))
        }
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
    }

    let reactor: Reactor
    init(reactor: Reactor) { self.reactor = reactor }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        Connection(reactor: reactor)
    }
}

/// Resident memory of this process in bytes (/proc/self/statm, second field × page size).
private func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return -1 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    guard withUnsafeMutablePointer(to: &size, { s in
        withUnsafeMutablePointer(to: &resident) { r in
            withVaList([s, r]) { vfscanf(file, "%ld %ld", $0) }
        }
    }) == 2 else { return -1 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

final class ScaleMemoryTests: XCTestCase {
    /// Measures the resident memory that idle live rooms add (collector + the quiet server's share, so an upper
    /// bound for the collector) and guards against a regression with a generous bound. The figure is printed.
    func testIdleLiveRoomsStaySmall() throws {
        let serverReactor = try Reactor()
        try serverReactor.start()
        defer { serverReactor.shutdown() }
        let server = QuietAuthServer(reactor: serverReactor)
        let gate = CollectorGate()
        let port = CollectorLock<UInt16>(0)
        serverReactor.execute {
            let listener = try? serverReactor.listen(on: .loopback(port: 0), handler: server)
            port.withLock { $0 = listener.flatMap { serverReactor.localAddress(of: $0)?.port } ?? 0 }
            gate.open()
        }
        gate.wait()
        var configuration = DanmuCollector.Configuration(
            server: .init(host: "127.0.0.1", port: port.withLock { $0 }), workers: 1)
        configuration.timing.heartbeatInterval = .seconds(30)
        let collector = try DanmuCollector(configuration: configuration)
        try collector.start()
        defer { collector.shutdown() }

        // Warm up: first rooms pay for lazily grown tables and thread stacks.
        collector.add(rooms: 1...200)
        XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 200 })
        let before = residentBytes()
        let rooms = 4_000
        collector.add(rooms: 1_001...Int64(1_000 + rooms))
        XCTAssertTrue(waitUntil(timeout: .seconds(60)) { collector.statistics().roomsLive == 200 + rooms },
                      "live: \(collector.statistics().roomsLive)")
        let after = residentBytes()
        let perRoom = (after - before) / rooms
        print("idle live room: \(perRoom) bytes resident per room (collector + quiet server, \(rooms) rooms)")
        XCTAssertGreaterThan(perRoom, 0)
        XCTAssertLessThan(perRoom, 8 << 10, "idle rooms must stay small (target: ≤ 2 KiB for the collector)")
    }
}
