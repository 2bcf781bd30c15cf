import DanmuClient
import DanmuPipeline
import EventLoop

/// The first stage of a cluster node's pipeline: passes a room's events only while the node's lease on the
/// room is valid by the monotonic clock (`LeaseTable.isValid`), and drops (and counts) the rest.
///
/// Why a stage and not only `remove(room:)`: after a pause (SIGSTOP, a long GC-like stall, a partition) the
/// worker threads may wake before the coordinator and deliver what the socket buffered meanwhile. The clock
/// check runs on the worker, on every batch, so those events are dropped before any sink sees them, even
/// though the coordinator has not yet noticed the lost lease. An event read before the room's current tenure
/// began (`Shared.tenureStart`) is dropped too: after a pause the coordinator may lose the room and claim it again
/// while the old connection's buffered events still wait in the worker queue, and a clock check alone would pass
/// them under the new lease (ClusterFailoverTests' SIGSTOP case wrote 4 such events under ThreadSanitizer).
/// A batch that passed the gate just before the pause is stopped later, at the sink, by `LeaseFence`.
public final class LeaseGateStage: PipelineStage {
    private let shared: Lock<ClusterNode.Shared>
    private let dropped = Lock<Int>(0)

    init(shared: Lock<ClusterNode.Shared>) {
        self.shared = shared
    }

    public var name: String { "lease-gate" }

    /// Events dropped because the node did not hold a valid lease on their room.
    public var droppedEvents: Int { dropped.withLock { $0 } }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        guard !batch.isEmpty else { return batch }
        let now = SystemClock.monotonicNanoseconds()
        let rooms = Set(batch.map(\.room))
        let (valid, since) = shared.withLock { s in
            let valid = Set(rooms.filter { s.table.isValid($0, now: now) })
            // Only the batch's rooms: filtering the whole tenure table would cost O(rooms held) per batch.
            return (valid, Dictionary(uniqueKeysWithValues: valid.map { ($0, s.tenureStart[$0] ?? .min) }))
        }
        let kept = batch.filter { valid.contains($0.room) && $0.receivedAt >= since[$0.room, default: .min] }
        if kept.count == batch.count { return batch }
        let drops = batch.count - kept.count
        dropped.withLock { $0 += drops }
        return kept
    }
}
