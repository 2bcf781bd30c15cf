import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

final class ConnectionTests: XCTestCase {
    /// Connects a client with `handler` to `address` on the loop.
    private func connect(
        _ reactor: Reactor, to address: SocketAddress, _ handler: RecordingHandler,
        timeout: Duration = .seconds(5)
    ) throws -> ConnectionID {
        let box = UncheckedBox(value: handler)
        return try onLoop(reactor) { try reactor.connect(to: address, timeout: timeout, handler: box.value) }
    }

    func testTwoThousandSimultaneousConnectionsOnOneLoop() throws {
        try withReactor { reactor in
            let (_, address) = try listenOnLoopback(reactor, EchoListener(reactor: reactor))
            let clients = (0..<2_000).map { _ in RecordingHandler() }
            let box = UncheckedBox(value: clients)
            try onLoop(reactor) {
                for (index, client) in box.value.enumerated() {
                    let id = try reactor.connect(to: address, timeout: .seconds(30), handler: client)
                    reactor.write(id, Array("hello \(index)\n".utf8))
                }
            }
            XCTAssertTrue(waitUntil(timeout: 60) { clients.allSatisfy { $0.snapshot.received.count > 0 } })
            for (index, client) in clients.enumerated() {
                XCTAssertTrue(waitUntil { client.snapshot.received == Array("hello \(index)\n".utf8) })
                XCTAssertEqual(client.snapshot.opened, 1)
                XCTAssertEqual(client.snapshot.closes, [])
            }
            XCTAssertEqual(try onLoop(reactor) { reactor.registrationCount }, 4_001)
        }
    }

    func testTinySocketBuffersDeliverEveryByteInOrder() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            // Writes of uneven sizes, 1 MiB in total, through 4 KiB socket buffers on both sides.
            var chunks: [[UInt8]] = []
            var total = 0
            var size = 1
            while total < 1 << 20 {
                chunks.append(patternBytes(count: size, seed: UInt64(chunks.count)))
                total += size
                size = size * 7 % 9_973 + 1
            }
            let box = UncheckedBox(value: (client, chunks))
            try onLoop(reactor) {
                let id = try reactor.connect(to: address, timeout: .seconds(5), handler: box.value.0)
                try reactor.setSocketOption(id, level: SOL_SOCKET, name: SO_SNDBUF, value: 4_096)
                for chunk in box.value.1 { reactor.write(id, chunk) }
                XCTAssertGreaterThan(reactor.pendingWriteBytes(id), 0)
            }
            XCTAssertTrue(waitUntil { listener.count == 1 })
            let (serverID, server) = listener.accepted.withLock { $0[0] }
            try onLoop(reactor) {
                try reactor.setSocketOption(serverID, level: SOL_SOCKET, name: SO_RCVBUF, value: 4_096)
            }
            XCTAssertTrue(waitUntil(timeout: 60) { server.snapshot.received.count >= total })
            XCTAssertEqual(server.snapshot.received, chunks.flatMap { $0 })
            XCTAssertTrue(waitUntil { client.snapshot.drains >= 1 })
            XCTAssertGreaterThan(server.snapshot.reads, 10)
        }
    }

    func testPauseStopsReadsAndResumeDeliversTheRest() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let clientID = try connect(reactor, to: address, client)
            try onLoop(reactor) { reactor.write(clientID, [UInt8](repeating: 1, count: 1_000)) }
            XCTAssertTrue(waitUntil { listener.count == 1 })
            let (serverID, server) = listener.accepted.withLock { $0[0] }
            XCTAssertTrue(waitUntil { server.snapshot.received.count == 1_000 })
            try onLoop(reactor) {
                reactor.pauseReading(serverID)
                XCTAssertTrue(reactor.isReadingPaused(serverID))
                reactor.write(clientID, [UInt8](repeating: 2, count: 5_000))
            }
            sleepMilliseconds(50)
            XCTAssertEqual(server.snapshot.received.count, 1_000)
            try onLoop(reactor) { reactor.resumeReading(serverID) }
            XCTAssertTrue(waitUntil { server.snapshot.received.count == 6_000 })
            XCTAssertEqual(server.snapshot.received.suffix(5_000), [UInt8](repeating: 2, count: 5_000)[...])
        }
    }

    func testRefusedConnectIsReportedOnceAsError() throws {
        try withReactor { reactor in
            let (listenerID, address) = try listenOnLoopback(reactor, AcceptingListener())
            try onLoop(reactor) { reactor.stopListening(listenerID) }
            let client = RecordingHandler()
            _ = try connect(reactor, to: address, client)
            XCTAssertTrue(waitUntil { !client.snapshot.closes.isEmpty })
            sleepMilliseconds(20)
            XCTAssertEqual(client.snapshot.closes, [.error(SystemError(.connectionRefused, operation: "connect"))])
            XCTAssertEqual(client.snapshot.opened, 0)
        }
    }

    func testConnectTimesOutWhenTheBacklogIsFull() throws {
        // A listener that never accepts, backlog 0: once its accept queue is full the kernel drops our SYNs.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = SocketAddress.loopback(port: 0).sockaddr
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        Glibc.listen(fd, 0)
        let port = try Posix.getsockname(fd).port
        try withReactor { reactor in
            let clients = (0..<4).map { _ in RecordingHandler() }
            for client in clients {
                _ = try connect(reactor, to: .loopback(port: port), client, timeout: .milliseconds(300))
            }
            XCTAssertTrue(waitUntil { clients.allSatisfy { $0.snapshot.opened + $0.snapshot.closes.count > 0 } })
            XCTAssertTrue(clients.contains { $0.snapshot.closes == [.connectTimeout] })
            sleepMilliseconds(50)
            for client in clients { XCTAssertLessThanOrEqual(client.snapshot.closes.count, 1) }
        }
    }

    func testEOFAndLocalCloseAreReportedExactlyOnce() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let clientID = try connect(reactor, to: address, client)
            XCTAssertTrue(waitUntil { listener.count == 1 && client.snapshot.opened == 1 })
            let server = listener.accepted.withLock { $0[0].1 }
            try onLoop(reactor) {
                reactor.close(clientID)
                reactor.close(clientID)
                reactor.write(clientID, [1, 2, 3])  // dead id: ignored
                reactor.pauseReading(clientID)
                XCTAssertFalse(reactor.isOpen(clientID))
            }
            XCTAssertTrue(waitUntil { server.snapshot.closes == [.eof] })
            sleepMilliseconds(20)
            XCTAssertEqual(client.snapshot.closes, [.closedLocally])
            XCTAssertEqual(server.snapshot.closes, [.eof])
        }
    }

    func testResetArrivesAsErrorOnce() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            _ = try connect(reactor, to: address, client)
            XCTAssertTrue(waitUntil { listener.count == 1 && client.snapshot.opened == 1 })
            let serverID = listener.accepted.withLock { $0[0].0 }
            try onLoop(reactor) {
                // SO_LINGER 0 turns close into a RST.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                let fd = reactor.fileDescriptor(of: serverID)!
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                reactor.close(serverID)
            }
            XCTAssertTrue(waitUntil { !client.snapshot.closes.isEmpty })
            sleepMilliseconds(20)
            XCTAssertEqual(client.snapshot.closes, [.error(SystemError(.connectionReset, operation: "read"))])
        }
    }

    func testCloseAfterFlushSendsEverythingThenCloses() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let payload = patternBytes(count: 2 << 20)
            let clientID = try connect(reactor, to: address, client)
            try onLoop(reactor) {
                reactor.write(clientID, payload)
                reactor.closeAfterFlush(clientID)
                reactor.write(clientID, [9])  // after closeAfterFlush: ignored
            }
            XCTAssertTrue(waitUntil { listener.count == 1 })
            let server = listener.accepted.withLock { $0[0].1 }
            XCTAssertTrue(waitUntil(timeout: 30) { server.snapshot.closes == [.eof] })
            XCTAssertEqual(server.snapshot.received, payload)
            XCTAssertEqual(client.snapshot.closes, [.closedLocally])
        }
    }

    func testCloseAfterFlushWhileConnectingWithNothingQueuedCloses() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            let clientID = try connect(reactor, to: address, client)
            try onLoop(reactor) { reactor.closeAfterFlush(clientID) }
            XCTAssertTrue(waitUntil { client.snapshot.closes == [.closedLocally] })
            XCTAssertTrue(waitUntil { listener.count == 1 })
            let server = listener.accepted.withLock { $0[0].1 }
            XCTAssertTrue(waitUntil { server.snapshot.closes == [.eof] })
        }
    }

    /// Out of fds: connect throws EMFILE for that connection only, the listener backs off instead of spinning,
    /// and once fds are available again everything proceeds (the backlog is accepted, new connects work).
    func testEMFILEFailsOnlyThatConnectAndTheLoopRecovers() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, EchoListenerRecording(reactor: reactor, listener))
            var saved = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
            let highest = openFileDescriptors().max() ?? 2
            var tight = saved
            tight.rlim_cur = rlim_t(highest + 1 + 6)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &tight)
            // fds are taken lowest-first, so gaps below the highest fd fill up before the limit bites.
            let clients = (0..<1_000).map { _ in RecordingHandler() }
            let outcome: (opened: Int, error: SystemError?) = try onLoop(reactor) {
                var opened = 0
                for client in clients {
                    do {
                        _ = try reactor.connect(to: address, timeout: .seconds(10), handler: client)
                        opened += 1
                    } catch let error as SystemError {
                        return (opened, error)
                    }
                }
                return (opened, nil)
            }
            sleepMilliseconds(50)
            let turnsBefore = try onLoop(reactor) { reactor.turnCount }
            sleepMilliseconds(50)
            let turnsWhileOut = try onLoop(reactor) { reactor.turnCount } - turnsBefore
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
            XCTAssertEqual(outcome.error?.errno, .tooManyOpenFiles)
            XCTAssertGreaterThan(outcome.opened, 0)
            XCTAssertLessThan(turnsWhileOut, 20, "the loop spun while out of fds")
            // The clients that did connect are all accepted once fds are back (after the accept backoff).
            XCTAssertTrue(waitUntil { listener.count == outcome.opened })
            let late = RecordingHandler()
            let lateID = try connect(reactor, to: address, late)
            try onLoop(reactor) { reactor.write(lateID, [1, 2, 3]) }
            XCTAssertTrue(waitUntil { late.snapshot.received == [1, 2, 3] })
            for client in clients.prefix(outcome.opened) { XCTAssertEqual(client.snapshot.closes, []) }
        }
    }

    func testShutdownDeliversClosedLocallyToEveryOpenConnection() throws {
        let reactor = try Reactor()
        try reactor.start()
        let listener = AcceptingListener()
        let (_, address) = try listenOnLoopback(reactor, listener)
        let clients = (0..<10).map { _ in RecordingHandler() }
        for client in clients { _ = try connect(reactor, to: address, client) }
        XCTAssertTrue(waitUntil { listener.count == 10 && clients.allSatisfy { $0.snapshot.opened == 1 } })
        reactor.shutdown()
        for client in clients { XCTAssertEqual(client.snapshot.closes, [.closedLocally]) }
        for (_, server) in listener.accepted.withLock({ $0 }) {
            XCTAssertEqual(server.snapshot.closes.count, 1)
        }
    }
}

/// Echoes, and records each accepted connection in `recorder`.
final class EchoListenerRecording: ListenerHandler {
    let reactor: Reactor
    let recorder: AcceptingListener
    init(reactor: Reactor, _ recorder: AcceptingListener) {
        self.reactor = reactor
        self.recorder = recorder
    }
    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        _ = recorder.listener(listener, didAccept: connection, from: peer)
        return EchoHandler(reactor: reactor)
    }
}
