import EventLoop
import Glibc

/// A snapshot of one room's counters (`DanmuCollector.statistics()`).
public struct RoomStatistics: Sendable, Equatable {
    public var room: Int64
    public var phase: RoomPhase
    /// Bytes read from the room's sockets (all connections).
    public var bytesReceived: Int
    /// Outer packets split from those bytes.
    public var framesReceived: Int
    /// Events delivered to the handler, by `EventKind` name ("danmaku", "gift", …).
    public var eventsByKind: [EventKind: Int]
    /// Successful TCP connects.
    public var connections: Int
    /// Attempts started after a failure.
    public var reconnects: Int
    /// Failures of any kind (connect, auth, watchdog, protocol, resolve).
    public var errors: Int
    /// Protocol errors (bad header, absurd length, corrupt compression, bad JSON), a subset of `errors`.
    public var protocolErrors: Int
    /// Auth failures (no AUTH_REPLY in time, a rejecting code, closed before AUTH_REPLY), a subset of `errors`:
    /// each one refreshes the token before the next try. Backpressure must never add to it.
    public var authFailures: Int
    public var lastError: RoomFailure?
    /// Messages skipped because their JSON was malformed (`MessageDecoder`'s policy: skip and count; the rest
    /// of the batch is delivered and the connection kept, since reconnecting would not repair the server's data).
    public var malformedMessages: Int
    /// The server switched this room to guest mode: LOG_IN_NOTICE or masked user names seen.
    public var maskedModeSeen: Bool
    /// Wall-clock time (Unix ns) of the last byte received; nil before any.
    public var lastMessageAt: Int64?
    /// Times reading was paused because the room's queue passed its high mark.
    public var readPauses: Int
    /// Whether the room's socket is not being read right now (its queue is above the high mark, the event
    /// stream is full, or the collector is shutting down). A room that stays paused while its queue is empty
    /// is a lost resume.
    public var isReadingPaused: Bool
    /// Bytes received and not yet decoded and delivered (the room's serial queue's pending cost).
    public var queuedBytes: Int
    /// The transport of the current (or last) connection; nil before the first connect.
    public var transport: TransportStack.Kind?
    /// Transport failures (TLS or WebSocket handshake timed out, refused certificate, bad upgrade answer, bad
    /// frame, …), a subset of `errors`.
    public var transportErrors: Int = 0
    /// wss connections whose TLS handshake resumed an earlier session (no certificate exchange).
    public var tlsResumptions: Int = 0
    /// `auto`: times the room moved from TCP to wss (0 or 1).
    public var transportFallbacks: Int = 0
    /// The local source address the room's sockets are bound to (`Configuration.bindAddress(forRoom:)`, port
    /// 0); nil when the kernel chooses.
    public var localAddress: SocketAddress?

    public var events: Int { eventsByKind.values.reduce(0, +) }
}

/// A snapshot of the whole collector.
public struct CollectorStatistics: Sendable {
    public var rooms: [RoomStatistics]
    public var roomsLive: Int { rooms.count { $0.phase == .live } }
    public var roomsConnecting: Int {
        rooms.count { $0.phase == .connecting || $0.phase == .authenticating || $0.phase == .resolving }
    }
    public var roomsBackingOff: Int { rooms.count { $0.phase == .backingOff } }
    public var roomsGivenUp: Int { rooms.count { $0.phase == .givenUp } }
    public var events: Int { rooms.reduce(0) { $0 + $1.events } }
    public var bytesReceived: Int { rooms.reduce(0) { $0 + $1.bytesReceived } }
    public var reconnects: Int { rooms.reduce(0) { $0 + $1.reconnects } }
    public var errors: Int { rooms.reduce(0) { $0 + $1.errors } }
    public var protocolErrors: Int { rooms.reduce(0) { $0 + $1.protocolErrors } }
    public var authFailures: Int { rooms.reduce(0) { $0 + $1.authFailures } }
    public var malformedMessages: Int { rooms.reduce(0) { $0 + $1.malformedMessages } }
    public var transportErrors: Int { rooms.reduce(0) { $0 + $1.transportErrors } }
    public var tlsResumptions: Int { rooms.reduce(0) { $0 + $1.tlsResumptions } }
    /// Rooms by the transport of their current connection.
    public var roomsByTransport: [TransportStack.Kind: Int] {
        var counts: [TransportStack.Kind: Int] = [:]
        for room in rooms { if let kind = room.transport { counts[kind, default: 0] += 1 } }
        return counts
    }

    /// The statistics of one room, if it is registered.
    public subscript(room room: Int64) -> RoomStatistics? { rooms.first { $0.room == room } }
}

/// The live counters of one room, written by the IO thread (bytes, frames, phase) and by the room's worker
/// jobs (events), read by `statistics()` from any thread. One small lock per room: the writers of one room are
/// at most two threads, so it is uncontended in practice.
final class RoomCounters: Sendable {
    let room: Int64
    private let state: Lock<RoomStatistics>

    init(room: Int64) {
        self.room = room
        state = Lock(
            RoomStatistics(
                room: room, phase: .idle, bytesReceived: 0, framesReceived: 0, eventsByKind: [:], connections: 0,
                reconnects: 0, errors: 0, protocolErrors: 0, authFailures: 0, lastError: nil, malformedMessages: 0,
                maskedModeSeen: false, lastMessageAt: nil, readPauses: 0, isReadingPaused: false, queuedBytes: 0))
    }

    /// The room's serial queue, read for `queuedBytes` (set once the session exists). Guarded by its Lock.
    private let queue = Lock<SerialQueue?>(nil)

    func attach(_ serialQueue: SerialQueue) {
        queue.withLock { $0 = serialQueue }
    }

    var snapshot: RoomStatistics {
        var snapshot = state.withLock { $0 }
        snapshot.queuedBytes = queue.withLock { $0 }?.pendingCost ?? 0
        return snapshot
    }

    func received(bytes: Int, frames: Int, at unixNanos: Int64) {
        state.withLock {
            $0.bytesReceived += bytes
            $0.framesReceived += frames
            $0.lastMessageAt = unixNanos
        }
    }

    func update(_ body: (inout RoomStatistics) -> Void) {
        state.withLock { body(&$0) }
    }

    func record(_ failure: RoomFailure) {
        state.withLock {
            $0.errors += 1
            $0.lastError = failure
            if case .protocolError = failure { $0.protocolErrors += 1 }
            if failure.isAuthFailure { $0.authFailures += 1 }
            switch failure {
            case .handshakeTimeout, .transportFailed: $0.transportErrors += 1
            default: break
            }
        }
    }
}

/// The session's clocks, from EventLoop's `SystemClock`: the state machine's monotonic nanoseconds (signed, as
/// it subtracts them) and the wall clock stamped on events.
enum RoomClock {
    static func monotonicNanos() -> Int64 { Int64(SystemClock.monotonicNanoseconds()) }

    static func unixNanos() -> Int64 { SystemClock.realtimeNanoseconds() }
}
