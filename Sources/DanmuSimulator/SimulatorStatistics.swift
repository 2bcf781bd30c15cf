import EventLoop
import Glibc

/// Counters of one simulated room (since the simulator started).
public struct SimulatedRoomStatistics: Sendable, Equatable {
    public var room: Int64
    /// op-5 messages written (all kinds).
    public var messagesSent: UInt64 = 0
    /// DANMU_MSG written; equals `lastSeq` because each danmaku takes the next sequence number.
    public var danmakuSent: UInt64 = 0
    /// Sequence number of the last danmaku written (0 = none).
    public var lastSeq: UInt64 = 0
    /// Connections that authenticated for this room.
    public var authsOK: UInt64 = 0
    /// AUTH packets naming this room that were rejected (bad protover or key).
    public var authsFailed: UInt64 = 0
    public var heartbeatsAnswered: UInt64 = 0
    /// Bytes written on this room's connections (all packets, as on the wire).
    public var bytesSent: UInt64 = 0
    /// Faults that fired (close, garbage header, absurd length, stall, swallowed auth/heartbeat).
    public var faultsTriggered: UInt64 = 0
    /// Messages written to connections, one per message and connection (equals `messagesSent` under
    /// `Delivery.oneConnection`; with broadcast, `messagesSent` times the connections that were there).
    public var deliveries: UInt64 = 0
    /// Broadcast only: messages a connection never got because it fell further behind the room than the room's
    /// backlog holds (`maxQueuedBytesPerConnection`); it went on with the oldest message still held.
    public var deliveriesSkipped: UInt64 = 0

    public init(room: Int64) { self.room = room }
}

/// A consistent snapshot of all counters.
public struct SimulatorStatistics: Sendable, Equatable {
    /// Per room, for every configured room and every room that a client authenticated for.
    public var rooms: [Int64: SimulatedRoomStatistics] = [:]
    public var connectionsAccepted: UInt64 = 0
    /// ws and wss connections whose upgrade was answered with 101.
    public var webSocketUpgrades: UInt64 = 0
    /// wss connections whose TLS handshake resumed a session.
    public var tlsResumptions: UInt64 = 0
    public var connectionsOpen: Int = 0
    public var authsOK: UInt64 = 0
    /// Every rejected connection: not AUTH first, timeout, bad JSON, unknown room, bad protover or key.
    public var authsFailed: UInt64 = 0
    public var heartbeatsAnswered: UInt64 = 0
    /// Authenticated connections closed for sending no heartbeat within `heartbeatTimeout`.
    public var heartbeatTimeouts: UInt64 = 0
    public var messagesSent: UInt64 = 0
    public var danmakuSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var faultsTriggered: UInt64 = 0
    /// Sum of the rooms' `deliveries`.
    public var deliveries: UInt64 = 0
    /// Sum of the rooms' `deliveriesSkipped`.
    public var deliveriesSkipped: UInt64 = 0

    public init() {}
}

/// The counters, written by the loop thread and readable from any thread.
///
/// `stats` is guarded by EventLoop's `Lock` (a pthread mutex, which ThreadSanitizer sees; see `Lock`). The loop
/// takes the lock once per write, not per message.
final class StatisticsStore: Sendable {
    private let stats = Lock(SimulatorStatistics())

    private func withLock<T>(_ body: (inout SimulatorStatistics) -> T) -> T {
        stats.withLock(body)
    }

    /// A copy whose storage is not shared with the live counters. (Returning the struct as is would share the
    /// dictionary's buffer, and the loop's next write would then copy all rooms: O(rooms) per write while
    /// somebody polls. Here the reader pays, once per snapshot.)
    func snapshot() -> SimulatorStatistics {
        withLock { live in
            var copy = live
            copy.rooms = live.rooms.mapValues { $0 }
            return copy
        }
    }

    func room(_ room: Int64) -> SimulatedRoomStatistics? { withLock { $0.rooms[room] } }

    func update(_ body: (inout SimulatorStatistics) -> Void) { withLock { body(&$0) } }

    /// Records a write of `messages` messages (`danmaku` of them danmaku, the last with `lastSeq`) and `bytes`
    /// to one connection (`Delivery.oneConnection`: generated for it, so emitted and delivered at once).
    func recordMessages(room: Int64, messages: Int, danmaku: Int, lastSeq: UInt64, bytes: Int) {
        withLock { stats in
            stats.messagesSent &+= UInt64(messages)
            stats.danmakuSent &+= UInt64(danmaku)
            stats.bytesSent &+= UInt64(bytes)
            stats.deliveries &+= UInt64(messages)
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { entry in
                entry.messagesSent &+= UInt64(messages)
                entry.danmakuSent &+= UInt64(danmaku)
                entry.lastSeq = lastSeq
                entry.bytesSent &+= UInt64(bytes)
                entry.deliveries &+= UInt64(messages)
            }
        }
    }

    /// Broadcast: the room emitted `messages` messages (`danmaku` of them danmaku, the last with `lastSeq`).
    func recordEmission(room: Int64, messages: Int, danmaku: Int, lastSeq: UInt64) {
        withLock { stats in
            stats.messagesSent &+= UInt64(messages)
            stats.danmakuSent &+= UInt64(danmaku)
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { entry in
                entry.messagesSent &+= UInt64(messages)
                entry.danmakuSent &+= UInt64(danmaku)
                entry.lastSeq = lastSeq
            }
        }
    }

    /// Broadcast: `messages` of the room's messages (`bytes` on the wire) were written to one connection, which
    /// missed `skipped` before them.
    func recordDelivery(room: Int64, messages: Int, bytes: Int, skipped: Int) {
        withLock { stats in
            stats.bytesSent &+= UInt64(bytes)
            stats.deliveries &+= UInt64(messages)
            stats.deliveriesSkipped &+= UInt64(skipped)
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { entry in
                entry.bytesSent &+= UInt64(bytes)
                entry.deliveries &+= UInt64(messages)
                entry.deliveriesSkipped &+= UInt64(skipped)
            }
        }
    }
}

/// Applies `body` to a value in place (one dictionary lookup with `subscript(_:default:)`).
@inline(__always)
func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }
