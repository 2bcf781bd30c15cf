import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

/// Regression tests named after the failure they guard against.
final class RegressionTests: XCTestCase {
    /// Two connections become readable in the same turn; the first one's handler closes the second and opens a
    /// new connection, which takes the freed slot and fd number. The second's event, already fetched by
    /// epoll_wait, must be dropped, not delivered to the newcomer.
    func testNoEventsForReusedFD() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let first = RecordingHandler()
            let second = RecordingHandler()
            let newcomer = RecordingHandler()
            let ids = try onLoop(reactor) {
                (
                    try reactor.connect(to: address, timeout: .seconds(5), handler: first),
                    try reactor.connect(to: address, timeout: .seconds(5), handler: second)
                )
            }
            XCTAssertTrue(
                waitUntil { listener.count == 2 && first.snapshot.opened == 1 && second.snapshot.opened == 1 })
            let servers = listener.accepted.withLock { $0.map(\.0) }
            let reuse = Lock<(oldFD: Int32, newFD: Int32, sameSlot: Bool)?>(nil)
            let box = UncheckedBox(value: (first, second, newcomer))
            let handler: (ConnectionID, UnsafeRawBufferPointer) -> Void = { id, _ in
                let (first, second, newcomer) = box.value
                let other = id == ids.0 ? ids.1 : ids.0
                guard reactor.isOpen(other), reuse.withLock({ $0 == nil }) else { return }
                let oldFD = reactor.fileDescriptor(of: other)!
                reactor.close(other)
                let fresh = try! reactor.connect(to: address, timeout: .seconds(5), handler: newcomer)
                reuse.withLock {
                    $0 = (oldFD, reactor.fileDescriptor(of: fresh)!, fresh.slot == other.slot)
                }
                _ = (first, second)
            }
            first.onRead = handler
            second.onRead = handler
            let staleBefore = try onLoop(reactor) {
                // Both peers write while the loop is busy here: both sockets are readable in the next epoll_wait.
                reactor.write(servers[0], [1])
                reactor.write(servers[1], [2])
                usleep(20_000)
                return reactor.staleEventCount
            }
            XCTAssertTrue(waitUntil { newcomer.snapshot.opened == 1 })
            let (oldFD, newFD, sameSlot) = try XCTUnwrap(reuse.withLock { $0 })
            XCTAssertEqual(oldFD, newFD, "the newcomer should reuse the fd number (lowest free)")
            XCTAssertTrue(sameSlot, "the newcomer should reuse the slot")
            XCTAssertEqual(newcomer.snapshot.reads, 0, "a stale read event reached the new connection")
            XCTAssertEqual(first.snapshot.reads + second.snapshot.reads, 1)
            XCTAssertEqual(try onLoop(reactor) { reactor.staleEventCount } - staleBefore, 1)
        }
    }

    /// A connection's bytes and a timer become ready in the same epoll batch, the timer first. The timer must run
    /// after the read, so a timeout never judges a connection whose bytes were already waiting (an auth timeout
    /// under load closed rooms whose AUTH_REPLY and first batch had arrived, losing that batch).
    func testTimerDueInTheSameTurnRunsAfterWaitingBytesAreRead() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let client = RecordingHandler()
            _ = try onLoop(reactor) { try reactor.connect(to: address, timeout: .seconds(5), handler: client) }
            XCTAssertTrue(waitUntil { listener.count == 1 && client.snapshot.opened == 1 })
            let server = listener.accepted.withLock { $0[0].0 }
            let seenAtTimeout = Lock<Int?>(nil)
            try onLoop(reactor) {
                _ = reactor.schedule(after: .milliseconds(1)) {
                    seenAtTimeout.withLock { $0 = client.snapshot.received.count }
                }
                reactor.rearmTimerIfNeeded()  // the timerfd is armed now...
                usleep(20_000)  // ...and due, so it is ready before the socket
                reactor.write(server, [1, 2, 3])
                usleep(20_000)  // the bytes are waiting too: both are in the next epoll batch
            }
            XCTAssertTrue(waitUntil { seenAtTimeout.withLock { $0 } != nil })
            XCTAssertEqual(seenAtTimeout.withLock { $0 }, 3, "the timer ran before bytes that were already waiting")
        }
    }

    /// A reset arriving while reading is paused raises EPOLLHUP|EPOLLERR, which epoll reports even with EPOLLIN
    /// off: the connection must close, not wake the loop on every turn.
    func testHUPClosesInsteadOfSpinning() throws {
        try withReactor { reactor in
            let (clientID, _, serverID, server, _) = try connectedPair(reactor)
            try onLoop(reactor) {
                reactor.pauseReading(serverID)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(
                    reactor.fileDescriptor(of: clientID)!, SOL_SOCKET, SO_LINGER, &linger,
                    socklen_t(MemoryLayout<Glibc.linger>.size))
                reactor.close(clientID)
            }
            sleepMilliseconds(20)
            let turnsBefore = try onLoop(reactor) { reactor.turnCount }
            sleepMilliseconds(100)
            let turns = try onLoop(reactor) { reactor.turnCount } - turnsBefore
            XCTAssertLessThan(turns, 10, "the loop spun \(turns) times on a hung-up socket")
            XCTAssertLessThanOrEqual(server.snapshot.closes.count, 1)
            // A paused socket leaves epoll (nothing can spin); the reset must still close it, at the latest when
            // reading resumes, exactly once.
            try onLoop(reactor) { reactor.resumeReading(serverID) }
            XCTAssertTrue(
                waitUntil { server.snapshot.closes.count == 1 },
                "closes: \(server.snapshot.closes): the reset connection was never closed")
            sleepMilliseconds(20)
            XCTAssertEqual(server.snapshot.closes.count, 1, "closed exactly once: \(server.snapshot.closes)")
        }
    }

    /// The peer sends data and closes while reading is paused: nothing spins, and resuming delivers the data,
    /// then EOF, exactly once.
    func testHalfCloseWhilePausedDeliversDataThenEOFOnResume() throws {
        try withReactor { reactor in
            let (clientID, client, serverID, server, _) = try connectedPair(reactor)
            try onLoop(reactor) {
                reactor.pauseReading(serverID)
                reactor.write(clientID, [UInt8](repeating: 7, count: 10_000))
                reactor.closeAfterFlush(clientID)
            }
            XCTAssertTrue(waitUntil { client.snapshot.closes == [.closedLocally] })
            let turnsBefore = try onLoop(reactor) { reactor.turnCount }
            sleepMilliseconds(100)
            XCTAssertLessThan(try onLoop(reactor) { reactor.turnCount } - turnsBefore, 10)
            XCTAssertEqual(server.snapshot.received.count, 0)
            try onLoop(reactor) { reactor.resumeReading(serverID) }
            XCTAssertTrue(waitUntil { server.snapshot.closes == [.eof] })
            XCTAssertEqual(server.snapshot.received, [UInt8](repeating: 7, count: 10_000))
        }
    }

    /// At most `maxReadsPerEvent` reads per socket per turn: a socket with a megabyte waiting cannot keep
    /// another one's message waiting until it is drained.
    func testBusySocketCannotStarveAnother() throws {
        var configuration = Reactor.Configuration()
        configuration.receiveBufferSize = 1_024
        configuration.maxReadsPerEvent = 2
        try withReactor(configuration) { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let busy = RecordingHandler()
            let quiet = RecordingHandler()
            let busyCountWhenQuietRead = Lock<Int?>(nil)
            quiet.onRead = { _, _ in
                let count = busy.snapshot.received.count
                busyCountWhenQuietRead.withLock { $0 = $0 ?? count }
            }
            let busyID = try onLoop(reactor) { try reactor.connect(to: address, timeout: .seconds(5), handler: busy) }
            XCTAssertTrue(waitUntil { listener.count == 1 && busy.snapshot.opened == 1 })
            let quietID = try onLoop(reactor) { try reactor.connect(to: address, timeout: .seconds(5), handler: quiet) }
            XCTAssertTrue(waitUntil { listener.count == 2 && quiet.snapshot.opened == 1 })
            let servers = listener.accepted.withLock { $0.map(\.0) }
            let total = 1 << 20
            try onLoop(reactor) {
                reactor.pauseReading(busyID)
                reactor.write(servers[0], [UInt8](repeating: 1, count: total))
            }
            // Let the megabyte reach the busy client's socket while it is paused, then make both readable at once.
            XCTAssertTrue(waitUntil { (try? onLoop(reactor) { reactor.pendingWriteBytes(servers[0]) }) == 0 })
            try onLoop(reactor) {
                reactor.resumeReading(busyID)
                reactor.write(servers[1], [42])
            }
            XCTAssertTrue(waitUntil { quiet.snapshot.received == [42] })
            XCTAssertTrue(waitUntil(timeout: 30) { busy.snapshot.received.count == total })
            let seen = try XCTUnwrap(busyCountWhenQuietRead.withLock { $0 })
            XCTAssertLessThan(seen, total / 2, "the quiet socket waited for the busy one")
            _ = quietID
        }
    }

    func testEveryFDIsNonBlockingAndCloseOnExec() throws {
        try withReactor { reactor in
            let listener = AcceptingListener()
            let (_, address) = try listenOnLoopback(reactor, listener)
            let clients = (0..<3).map { _ in RecordingHandler() }
            try onLoop(reactor) {
                for client in clients { _ = try reactor.connect(to: address, timeout: .seconds(5), handler: client) }
            }
            XCTAssertTrue(waitUntil { listener.count == 3 })
            let fds = try onLoop(reactor) { reactor.ownedFileDescriptors() }
            XCTAssertEqual(fds.count, 3 + 1 + 6)  // epoll, eventfd, timerfd + listener + 2×3 sockets
            for fd in fds {
                XCTAssertNotEqual(fcntl(fd, F_GETFL) & O_NONBLOCK, 0, "fd \(fd) is blocking")
                XCTAssertNotEqual(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0, "fd \(fd) is not close-on-exec")
            }
        }
    }

    func testShutdownLeavesProcSelfFDAsBefore() throws {
        let before = openFileDescriptors()
        let reactor = try Reactor()
        try reactor.start()
        let listener = AcceptingListener()
        let (_, address) = try listenOnLoopback(reactor, listener)
        let clients = (0..<20).map { _ in RecordingHandler() }
        try onLoop(reactor) {
            for client in clients { _ = try reactor.connect(to: address, timeout: .seconds(5), handler: client) }
            reactor.schedule(after: .seconds(60)) {}
        }
        XCTAssertTrue(waitUntil { listener.count == 20 })
        XCTAssertGreaterThan(openFileDescriptors().count, before.count + 40)
        reactor.shutdown()
        XCTAssertEqual(openFileDescriptors(), before)
    }

    func testShutdownBeforeStartClosesItsFDs() throws {
        let before = openFileDescriptors()
        let reactor = try Reactor()
        XCTAssertFalse(reactor.execute {})
        reactor.shutdown()
        XCTAssertEqual(openFileDescriptors(), before)
        XCTAssertThrowsError(try reactor.start())
    }

    /// The reactor's whole per-connection state is one table row: no buffers, no closures.
    func testPerConnectionStateStaysTiny() throws {
        XCTAssertLessThanOrEqual(
            MemoryLayout<Registration>.stride, 160, "row is \(MemoryLayout<Registration>.stride) B")
        try withReactor { reactor in
            let (_, address) = try listenOnLoopback(reactor, EchoListener(reactor: reactor))
            let clients = (0..<200).map { _ in RecordingHandler() }
            try onLoop(reactor) {
                for client in clients { _ = try reactor.connect(to: address, timeout: .seconds(5), handler: client) }
            }
            XCTAssertTrue(waitUntil { clients.allSatisfy { $0.snapshot.opened == 1 } })
            // 400 connections + 1 listener: the table (with its doubling slack) stays under 1 KiB per connection.
            let bytes = try onLoop(reactor) { reactor.registrationTableBytes }
            XCTAssertLessThan(bytes / 400, 1_024)
        }
    }

    func testMalformedAddressIsAClearError() {
        XCTAssertThrowsError(try SocketAddress(ipv4: "300.1.2.3", port: 80)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .invalidArgument)
        }
        XCTAssertEqual(try SocketAddress(ipv4: "10.0.0.7", port: 2243).description, "10.0.0.7:2243")
        XCTAssertEqual(
            SystemError(.connectionRefused, operation: "connect").description,
            "connect: ECONNREFUSED (Connection refused)")
    }
}
