import DanmuClient
import EventLoop

/// Keeps one event in `every` of the chosen kinds, per room (the 1st, the `every + 1`th, …): deterministic,
/// so a test and a rerun keep the same events. Other kinds pass untouched.
public final class SampleStage: PipelineStage {
    public let every: Int
    public let kinds: Set<EventKind>
    // Guarded by its lock: per-room counters of the sampled kinds.
    private let counters = Lock<[Int64: Int]>([:])

    public init(every: Int, kinds: Set<EventKind> = [.danmaku]) {
        precondition(every > 0, "sample every ≥ 1 events")
        self.every = every
        self.kinds = kinds
    }

    public var name: String { "sample" }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        guard let room = batch.first?.room else { return batch }
        return counters.withLock { counters in
            var count = counters[room, default: 0]
            let kept = batch.filter { event in
                guard kinds.contains(event.event.kind) else { return true }
                defer { count += 1 }
                return count % every == 0
            }
            counters[room] = count
            return kept
        }
    }
}
