import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import EventLoop

/// Boxes a value for a trip through a `@Sendable` closure in tests (the test guarantees the hand-over).
struct UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
}

/// Starts a reactor, runs `body`, always shuts it down.
func withReactor(
    _ configuration: Reactor.Configuration = .init(), _ body: (Reactor) throws -> Void
) throws {
    let reactor = try Reactor(configuration: configuration)
    try reactor.start()
    defer { reactor.shutdown() }
    try body(reactor)
}

/// Runs `body` on the reactor's IO thread and returns its result (blocking the caller).
func onLoop<T>(_ reactor: Reactor, _ body: @escaping () throws -> T) throws -> T {
    let result = Lock<UncheckedBox<Result<T, any Error>>?>(nil)
    let done = Semaphore()
    let work = UncheckedBox(value: body)
    let accepted = reactor.execute {
        let outcome = Result { try work.value() }
        result.withLock { $0 = UncheckedBox(value: outcome) }
        done.signal()
    }
    precondition(accepted, "reactor is not running")
    done.wait()
    return try result.withLock { $0! }.value.get()
}

/// Polls `condition` every millisecond for up to `timeout` seconds.
@discardableResult
func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    pollUntil(timeout: .seconds(timeout), interval: .milliseconds(1), condition)
}

func sleepMilliseconds(_ milliseconds: Int) { usleep(UInt32(milliseconds * 1_000)) }

/// Records everything a connection reports. Callbacks run on the IO thread; tests read through the lock.
final class RecordingHandler: ConnectionHandler, @unchecked Sendable {
    struct Record {
        var opened = 0
        var received: [UInt8] = []
        var reads = 0
        var closes: [CloseReason] = []
        var drains = 0
        var id: ConnectionID?
    }

    let record = Lock(Record())
    /// Optional hook run on the IO thread for each read (after recording).
    var onRead: ((ConnectionID, UnsafeRawBufferPointer) -> Void)?
    var onOpen: ((ConnectionID) -> Void)?
    var onClose: ((ConnectionID, CloseReason) -> Void)?

    init() {}

    func connectionDidOpen(_ connection: ConnectionID) {
        record.withLock {
            $0.opened += 1
            $0.id = connection
        }
        onOpen?(connection)
    }

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        record.withLock {
            $0.received.append(contentsOf: bytes)
            $0.reads += 1
        }
        onRead?(connection, bytes)
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
        record.withLock { $0.closes.append(reason) }
        onClose?(connection, reason)
    }

    func connectionDidDrainWrites(_ connection: ConnectionID) {
        record.withLock { $0.drains += 1 }
    }

    var snapshot: Record { record.withLock { $0 } }
}

/// Accepts connections, giving each a handler from `makeHandler`; keeps them (and their ids) for the test.
final class AcceptingListener: ListenerHandler, @unchecked Sendable {
    let accepted = Lock<[(ConnectionID, RecordingHandler)]>([])
    let makeHandler: (ConnectionID) -> RecordingHandler

    init(makeHandler: @escaping (ConnectionID) -> RecordingHandler = { _ in RecordingHandler() }) {
        self.makeHandler = makeHandler
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        let handler = makeHandler(connection)
        accepted.withLock { $0.append((connection, handler)) }
        return handler
    }

    var count: Int { accepted.withLock { $0.count } }
}

/// Echoes every byte back.
final class EchoHandler: ConnectionHandler {
    let reactor: Reactor
    init(reactor: Reactor) { self.reactor = reactor }
    func connectionDidOpen(_ connection: ConnectionID) {}
    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        reactor.write(connection, Array(bytes))
    }
    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
}

final class EchoListener: ListenerHandler {
    let reactor: Reactor
    init(reactor: Reactor) { self.reactor = reactor }
    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        EchoHandler(reactor: reactor)
    }
}

/// A listener on 127.0.0.1 with a free port; returns its id and address.
func listenOnLoopback(_ reactor: Reactor, _ handler: any ListenerHandler) throws -> (ListenerID, SocketAddress) {
    let box = UncheckedBox(value: handler)
    return try onLoop(reactor) {
        let id = try reactor.listen(on: .loopback(port: 0), handler: box.value)
        return (id, reactor.localAddress(of: id)!)
    }
}

/// Connects a client through the reactor to a new loopback listener of the same reactor and waits until both ends
/// are open; returns both ends and the client's descriptor.
func connectedPair(_ reactor: Reactor) throws -> (
    client: ConnectionID, clientHandler: RecordingHandler, serverID: ConnectionID, server: RecordingHandler,
    clientFD: Int32
) {
    let listener = AcceptingListener()
    let (_, address) = try listenOnLoopback(reactor, listener)
    let client = RecordingHandler()
    let box = UncheckedBox(value: client)
    let id = try onLoop(reactor) { try reactor.connect(to: address, timeout: .seconds(5), handler: box.value) }
    XCTAssertTrue(waitUntil { client.snapshot.opened == 1 && listener.count == 1 })
    let fd = try XCTUnwrap(try onLoop(reactor) { reactor.fileDescriptor(of: id) })
    let (serverID, server) = listener.accepted.withLock { $0[0] }
    return (id, client, serverID, server, fd)
}

/// Deterministic pseudo-random bytes.
func patternBytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}
