import CDanmuSystem
import Glibc
import Synchronization
import XCTest

@testable import EventLoop

/// A `SystemCalls` table whose answers a test scripts per fd; everything unscripted goes to the kernel.
/// Rules are read on the IO thread and set on the test thread, hence the lock.
final class ScriptedSystem: @unchecked Sendable {
    struct Rules {
        /// Each send/sendmsg on these fds takes at most this many bytes.
        var maxBytesPerWrite: [Int32: Int] = [:]
        /// These fds answer every other write with EAGAIN.
        var alternateWouldBlock: Set<Int32> = []
        /// These fds answer every write with EAGAIN (a send buffer that never drains).
        var alwaysWouldBlock: Set<Int32> = []
        /// connect() on a socket created while this is set answers EINPROGRESS without connecting, and its
        /// SO_ERROR then reads as the given errno.
        var fakeConnectError: Int32?
        var fakedConnects: [Int32: Int32] = [:]
        /// The next read on these fds fails with the given errno (once).
        var failNextRead: [Int32: Int32] = [:]
        /// epoll events of these tokens are replaced by EPOLLHUP.
        var hangUpTokens: Set<UInt64> = []
        var writeCalls = 0
        var scriptedWouldBlocks = 0
        var shortWrites = 0
        var hangUpsDelivered = 0
    }

    let rules = Lock(Rules())
    private var flip = false

    var table: SystemCalls {
        var calls = SystemCalls.live
        calls.c.send = { [self] fd, buffer, count, flags in
            guard let allowed = scriptedWrite(fd: fd, count: count) else {
                errno = EAGAIN
                return -1
            }
            return Glibc.send(fd, buffer, allowed, flags)
        }
        calls.c.sendmsg = { [self] fd, message, flags in
            let first = message.pointee.msg_iov[0]
            let total = (0..<message.pointee.msg_iovlen).reduce(0) { $0 + message.pointee.msg_iov[$1].iov_len }
            guard let allowed = scriptedWrite(fd: fd, count: total) else {
                errno = EAGAIN
                return -1
            }
            if allowed == total { return Glibc.sendmsg(fd, message, flags) }
            return Glibc.send(fd, first.iov_base, min(allowed, first.iov_len), flags)
        }
        calls.c.connect = { [self] fd, address, length in
            let fake: Int32? = rules.withLock { rules in
                guard let code = rules.fakeConnectError else { return nil }
                rules.fakedConnects[fd] = code
                return code
            }
            guard fake != nil else { return Glibc.connect(fd, address, length) }
            errno = EINPROGRESS
            return -1
        }
        calls.c.getsockopt = { [self] fd, level, name, value, length in
            if level == SOL_SOCKET, name == SO_ERROR, let code = rules.withLock({ $0.fakedConnects[fd] }) {
                value!.storeBytes(of: code, as: Int32.self)
                return 0
            }
            return Glibc.getsockopt(fd, level, name, value, length)
        }
        calls.c.read = { [self] fd, buffer, count in
            if let code = rules.withLock({ $0.failNextRead.removeValue(forKey: fd) }) {
                errno = code
                return -1
            }
            return Glibc.read(fd, buffer, count)
        }
        calls.c.epoll_wait = { [self] epfd, events, maxEvents, timeout in
            let count = CDanmuSystem.epoll_wait(epfd, events, maxEvents, timeout)
            guard count > 0 else { return count }
            rules.withLock { rules in
                for index in 0..<Int(count) where rules.hangUpTokens.contains(events![index].data.u64) {
                    events![index].events = EPOLLHUP.rawValue
                    rules.hangUpsDelivered += 1
                }
            }
            return count
        }
        return calls
    }

    /// How many of `count` bytes a write on `fd` may take; nil: EAGAIN.
    private func scriptedWrite(fd: Int32, count: Int) -> Int? {
        rules.withLock { rules in
            rules.writeCalls += 1
            if rules.alwaysWouldBlock.contains(fd) {
                rules.scriptedWouldBlocks += 1
                return nil
            }
            if rules.alternateWouldBlock.contains(fd) {
                flip.toggle()
                if flip {
                    rules.scriptedWouldBlocks += 1
                    return nil
                }
            }
            if let limit = rules.maxBytesPerWrite[fd], limit < count {
                rules.shortWrites += 1
                return limit
            }
            return count
        }
    }
}

/// Deterministic tests of the reactor's IO path through a scripted kernel (STYLE habit 5), beside the
/// real-socket tests: short writes, EAGAIN, EINPROGRESS + ECONNREFUSED, a failing read, a paused hang-up.
final class ScriptedSyscallTests: XCTestCase {
    private func withScriptedReactor(_ body: (Reactor, ScriptedSystem) throws -> Void) throws {
        let script = ScriptedSystem()
        let reactor = try Reactor(configuration: .init(), system: script.table)
        try reactor.start()
        defer { reactor.shutdown() }
        try body(reactor, script)
    }

    func testShortWritesAndWouldBlockDeliverEveryByteInOrder() throws {
        try withScriptedReactor { reactor, script in
            let pair = try connectedPair(reactor)
            script.rules.withLock { rules in
                rules.maxBytesPerWrite[pair.clientFD] = 1_000
                rules.alternateWouldBlock.insert(pair.clientFD)
            }
            let chunks = (0..<40).map { patternBytes(count: 2_500 + $0 * 37, seed: UInt64($0 + 1)) }
            _ = try onLoop(reactor) { for chunk in chunks { reactor.write(pair.client, chunk) } }
            let expected = chunks.flatMap { $0 }
            XCTAssertTrue(waitUntil { pair.server.snapshot.received.count >= expected.count })
            XCTAssertEqual(pair.server.snapshot.received, expected, "bytes lost, repeated or reordered")
            let rules = script.rules.withLock { $0 }
            XCTAssertGreaterThan(rules.shortWrites, 40, "the script must have cut writes short")
            XCTAssertGreaterThan(rules.scriptedWouldBlocks, 40, "the script must have answered EAGAIN")
            XCTAssertEqual(pair.clientHandler.snapshot.closes, [], "a short write or EAGAIN is not an error")
            XCTAssertGreaterThanOrEqual(pair.clientHandler.snapshot.drains, 1, "the drain is reported")
        }
    }

    func testConnectInProgressThenRefusedClosesWithTheError() throws {
        try withScriptedReactor { reactor, script in
            script.rules.withLock { $0.fakeConnectError = ECONNREFUSED }
            let client = RecordingHandler()
            let box = UncheckedBox(value: client)
            let address = try SocketAddress(ipv4: "127.0.0.1", port: 9)
            _ = try onLoop(reactor) { try reactor.connect(to: address, timeout: nil, handler: box.value) }
            XCTAssertTrue(waitUntil { !client.snapshot.closes.isEmpty })
            let record = client.snapshot
            XCTAssertEqual(record.opened, 0)
            guard case .error(let error) = record.closes.first else {
                return XCTFail("expected an error close, got \(record.closes)")
            }
            XCTAssertEqual(error.errno, .connectionRefused)
            XCTAssertEqual(script.rules.withLock { $0.fakedConnects.count }, 1)
            XCTAssertEqual(try onLoop(reactor) { reactor.pendingTimerCount }, 0, "timeout: nil arms no timer")
        }
    }

    func testFailingReadClosesWithThatErrorAndOnlyThatConnection() throws {
        try withScriptedReactor { reactor, script in
            let a = try connectedPair(reactor)
            let b = try connectedPair(reactor)
            script.rules.withLock { $0.failNextRead[a.clientFD] = ECONNRESET }
            _ = try onLoop(reactor) {
                for server in [a, b] {
                    // Each server end answers its client: the clients become readable.
                    let id = server.server.snapshot.id!
                    reactor.write(id, [1, 2, 3])
                }
            }
            XCTAssertTrue(
                waitUntil { !a.clientHandler.snapshot.closes.isEmpty && b.clientHandler.snapshot.received.count == 3 })
            guard case .error(let error) = a.clientHandler.snapshot.closes.first else {
                return XCTFail("expected an error close, got \(a.clientHandler.snapshot.closes)")
            }
            XCTAssertEqual(error.errno, .connectionReset)
            XCTAssertEqual(b.clientHandler.snapshot.closes, [])
        }
    }

    /// A paused connection with writes pending stays registered for EPOLLOUT; when epoll reports a hang-up it
    /// must leave epoll, or level-triggered HUP is reported every turn and the loop spins.
    func testPausedHangUpDoesNotSpin() throws {
        try withScriptedReactor { reactor, script in
            let pair = try connectedPair(reactor)
            _ = script.rules.withLock { $0.alwaysWouldBlock.insert(pair.clientFD) }
            let token = Registration.token(slot: Int(pair.client.slot), generation: pair.client.generation)
            _ = try onLoop(reactor) {
                reactor.pauseReading(pair.client)
                reactor.write(pair.client, [9, 9, 9])  // EAGAIN: queued, EPOLLOUT armed
            }
            _ = script.rules.withLock { $0.hangUpTokens.insert(token) }
            sleepMilliseconds(200)
            let turnsBefore = try onLoop(reactor) { reactor.turnCount }
            sleepMilliseconds(200)
            let turns = try onLoop(reactor) { reactor.turnCount } - turnsBefore
            XCTAssertLessThan(turns, 20, "the loop spun on a level-triggered hang-up (\(turns) turns in 200 ms)")
            XCTAssertGreaterThanOrEqual(script.rules.withLock { $0.hangUpsDelivered }, 1, "no hang-up was delivered")
            XCTAssertTrue(
                try onLoop(reactor) { reactor.isOpen(pair.client) }, "a hang-up without error waits for resume")
        }
    }
}
