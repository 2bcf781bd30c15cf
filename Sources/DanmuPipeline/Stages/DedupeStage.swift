import DanmuClient
import EventLoop

/// Drops an event whose key was seen in the same room within the last `window` keyed events: a reconnect
/// that replays the server's last messages, or two collectors handing a room over, must not duplicate.
///
/// Keys (`EventFields.dedupeKey`): a danmaku's `id_str`; a super chat's `id`; a gift's `tid`; a guard purchase's
/// uid + start time + gift id. Kinds without one (heartbeats, counts, entries) always pass: they have no
/// identity to compare, and dropping an equal-looking count would lose a real sample.
///
/// Memory: per room at most `window` keys (a ring and a set), so `rooms × window` keys in all.
public final class DedupeStage: PipelineStage {
    private struct Window {
        var ring: [String?]
        var next = 0
        var seen: Set<String> = []
        init(size: Int) { ring = Array(repeating: nil, count: size) }

        /// True when `key` is new (and now remembered).
        mutating func insert(_ key: String) -> Bool {
            guard !seen.contains(key) else { return false }
            if let old = ring[next] { seen.remove(old) }
            ring[next] = key
            seen.insert(key)
            next = (next + 1) % ring.count
            return true
        }
    }

    public let window: Int
    // Guarded by its lock; each room's window is touched only by that room's worker, the lock only orders the
    // dictionary.
    private let windows = Lock<[Int64: Window]>([:])
    private let dropped = Lock<Int>(0)

    public init(window: Int = 4096) {
        precondition(window > 0, "a dedupe window holds at least one key")
        self.window = window
    }

    public var name: String { "dedupe" }

    /// Events dropped as duplicates so far.
    public var duplicates: Int { dropped.withLock { $0 } }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        guard let room = batch.first?.room else { return batch }
        var kept: [RoomEvent] = []
        kept.reserveCapacity(batch.count)
        var drops = 0
        windows.withLock { windows in
            var w = windows.removeValue(forKey: room) ?? Window(size: window)
            for event in batch {
                if let key = EventFields.dedupeKey(of: event.event), event.room == room, !w.insert(key) {
                    drops += 1
                } else {
                    kept.append(event)
                }
            }
            windows[room] = w
        }
        if drops > 0 { dropped.withLock { $0 += drops } }
        return kept
    }
}
