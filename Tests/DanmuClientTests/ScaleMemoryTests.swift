import EventLoop
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import DanmuClient

/// A server that answers the first bytes of each connection with AUTH_REPLY and then stays silent: the
/// cheapest possible peer, so that memory measured around it is mostly the collector's.
private final class QuietAuthServer: ListenerHandler, @unchecked Sendable {
    final class Connection: ConnectionHandler {
        unowned let server: QuietAuthServer
        var answered = false
        init(server: QuietAuthServer) { self.server = server }
        func connectionDidOpen(_ connection: ConnectionID) {}
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            guard !answered else { return }
            answered = true
            server.answered.add(1, ordering: .relaxed)
            server.reactor.write(connection, Packet.authReply(code: 0))
        }
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
            server.open.subtract(1, ordering: .relaxed)
        }
    }

    let reactor: Reactor
    let open = Atomic<Int>(0)
    let answered = Atomic<Int>(0)
    init(reactor: Reactor) { self.reactor = reactor }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        open.add(1, ordering: .relaxed)
        return Connection(server: self)
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
    /// Measures the resident memory that idle live rooms add and guards against a regression with a generous
    /// bound; the figures are printed. First the quiet server's own share is measured with raw client sockets
    /// (no user-space memory on the client side); those are closed again, so when the collector's rooms connect
    /// the server mostly reuses what it freed and the second figure is close to the collector's share alone.
    func testIdleLiveRoomsStaySmall() throws {
        let serverReactor = try Reactor()
        try serverReactor.start()
        defer { serverReactor.shutdown() }
        let server = QuietAuthServer(reactor: serverReactor)
        let gate = Semaphore()
        let port = Lock<UInt16>(0)
        serverReactor.execute {
            let listener = try? serverReactor.listen(on: .loopback(port: 0), handler: server)
            port.withLock { $0 = listener.flatMap { serverReactor.localAddress(of: $0)?.port } ?? 0 }
            gate.signal()
        }
        gate.wait()
        let serverPort = port.withLock { $0 }

        // The server's share: raw sockets that connect and send a byte (which the server answers).
        let rooms = 4_000
        let serverBefore = residentBytes()
        var sockets: [Int32] = []
        for _ in 0..<rooms {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let connected = connectToLoopback(fd, port: serverPort)
            XCTAssertEqual(connected, 0)
            var byte: UInt8 = 0
            _ = write(fd, &byte, 1)
            sockets.append(fd)
        }
        XCTAssertTrue(waitUntil { server.answered.load(ordering: .relaxed) == rooms })
        let serverShare = (residentBytes() - serverBefore) / rooms
        for fd in sockets { close(fd) }
        XCTAssertTrue(waitUntil { server.open.load(ordering: .relaxed) == 0 })

        var configuration = DanmuCollector.Configuration(
            server: .init(host: "127.0.0.1", port: serverPort), workers: 1)
        configuration.timing.heartbeatInterval = .seconds(30)
        let collector = try DanmuCollector(configuration: configuration)
        try collector.start()
        defer { collector.shutdown() }

        // Warm up: first rooms pay for lazily grown tables and thread stacks.
        collector.add(rooms: 1...200)
        XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 200 })
        let before = residentBytes()
        collector.add(rooms: 1_001...Int64(1_000 + rooms))
        XCTAssertTrue(waitUntil(timeout: .seconds(60)) { collector.statistics().roomsLive == 200 + rooms },
                      "live: \(collector.statistics().roomsLive)")
        let after = residentBytes()
        let perRoom = (after - before) / rooms
        print("idle live room: \(perRoom) bytes resident per room (collector, server reusing freed memory); "
              + "quiet server alone: \(serverShare) bytes per connection; \(rooms) rooms")
        XCTAssertGreaterThan(perRoom, 0)
        XCTAssertLessThan(perRoom, 8 << 10, "idle rooms must stay small (target: ≤ 2 KiB for the collector)")
    }
}
