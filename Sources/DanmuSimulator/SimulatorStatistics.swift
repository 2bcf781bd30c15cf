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
    public var messagesSent: UInt64 = 0
    public var danmakuSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var faultsTriggered: UInt64 = 0

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

    /// Records a write of `messages` messages (`danmaku` of them danmaku, the last with `lastSeq`) and `bytes`.
    func recordMessages(room: Int64, messages: Int, danmaku: Int, lastSeq: UInt64, bytes: Int) {
        withLock { stats in
            stats.messagesSent &+= UInt64(messages)
            stats.danmakuSent &+= UInt64(danmaku)
            stats.bytesSent &+= UInt64(bytes)
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { entry in
                entry.messagesSent &+= UInt64(messages)
                entry.danmakuSent &+= UInt64(danmaku)
                entry.lastSeq = lastSeq
                entry.bytesSent &+= UInt64(bytes)
            }
        }
    }
}

/// Applies `body` to a value in place (one dictionary lookup with `subscript(_:default:)`).
@inline(__always)
func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }
