/// The per-room history rings of one hub, and the replay of a resume from them. Loop-confined (a value owned by
/// the `EventHub` and touched only on its reactor's thread).
///
/// Each room keeps its newest `capacity` events in sequence order; older ones are evicted and counted, so a resume
/// can tell a gap from "nothing happened". A room's ring lives until `forget(room:)` (the room was removed from
/// the collector): memory is bounded by `capacity` events per room registered, not per room ever seen, so a
/// process that adds and removes rooms for weeks does not grow. What a forgotten ring held is remembered as one
/// number, `forgottenThrough`, so a resume from before it reports a gap instead of a silent hole.
struct EventHistory {
    /// One room's ring.
    struct Ring {
        private var storage: [PublishedEvent] = []
        /// Index in `storage` of the oldest event once the ring is full.
        private var head = 0
        let capacity: Int
        /// Events evicted so far.
        private(set) var evictedCount = 0
        /// Sequence of the newest evicted event (0: none).
        private(set) var lastEvictedSequence: UInt64 = 0
        /// Sequence of the first event the room ever had.
        private(set) var firstSequence: UInt64 = 0

        init(capacity: Int) { self.capacity = capacity }

        var count: Int { storage.count }

        /// Sequence of the newest event held (0: none).
        var newestSequence: UInt64 { storage.isEmpty ? 0 : self[storage.count - 1].sequence }

        /// The `index`-th held event, oldest first.
        subscript(index: Int) -> PublishedEvent { storage[(head + index) % storage.count] }

        mutating func append(_ event: PublishedEvent) {
            if firstSequence == 0 { firstSequence = event.sequence }
            if storage.count < capacity {
                storage.append(event)
                return
            }
            evictedCount += 1
            lastEvictedSequence = storage[head].sequence
            storage[head] = event
            head = (head + 1) % capacity
        }

        /// The position of the first held event with a sequence above `sequence` (`count` if none): binary search,
        /// the ring being in sequence order.
        func firstIndex(after sequence: UInt64) -> Int {
            var low = 0
            var high = count
            while low < high {
                let middle = (low + high) / 2
                if self[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// Whether events after `sequence` were evicted, and how many when that is known.
        func loss(after sequence: UInt64) -> Loss {
            guard evictedCount > 0, lastEvictedSequence > sequence else { return .none }
            // Every evicted event came after the resume point: all of them are missed, exactly.
            if sequence < firstSequence { return .some(evictedCount) }
            return .some(nil)
        }
    }

    /// What a resume lost in one room.
    enum Loss: Equatable {
        case none
        /// Events were evicted after the resume point: their number, or nil when it is not known.
        case some(Int?)
    }

    let capacity: Int
    private(set) var rooms: [Int64: Ring] = [:]
    /// Events held over all rooms.
    private(set) var eventCount = 0
    /// The newest sequence any forgotten ring held (0: nothing forgotten). A resume from before it may have lost
    /// events of a room no ring now vouches for (`EventHistory+Replay`).
    private(set) var forgottenThrough: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func append(_ event: PublishedEvent) {
        var ring = rooms.removeValue(forKey: event.room) ?? Ring(capacity: capacity)
        let before = ring.count
        ring.append(event)
        eventCount += ring.count - before
        rooms[event.room] = ring
    }

    /// Drops `room`'s ring (its events and storage). Returns the events it held.
    @discardableResult
    mutating func forget(room: Int64) -> Int {
        guard let ring = rooms.removeValue(forKey: room) else { return 0 }
        eventCount -= ring.count
        forgottenThrough = max(forgottenThrough, ring.newestSequence)
        return ring.count
    }

    func matches(_ event: PublishedEvent, _ subscription: Subscription) -> Bool {
        subscription.matches(room: event.room, kind: event.kind)
    }
}
