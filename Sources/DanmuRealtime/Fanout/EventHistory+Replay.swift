extension EventHistory {
    /// What a resuming subscriber gets before the live events.
    struct Replay {
        /// Said first, when something is missed.
        var gap: GapReport?
        /// The held events it matches, in sequence order.
        var events: [PublishedEvent]
    }

    /// A room's held events after the resume point, walked from the newest back.
    private struct Cursor {
        let room: Int64
        let ring: Ring
        /// The oldest index to replay.
        let start: Int
        /// The next index to take (moves down to `start`).
        var position: Int
        var sequence: UInt64 { ring[position].sequence }
    }

    /// The replay of a resume after `resumeAfter`, at most `maxBytes` of events (their SSE size).
    ///
    /// Another epoch (a restart): a `restart` gap with unknown counts, then the newest held events. The same epoch:
    /// the held events after the resume point, preceded by a `history` gap for the rooms whose rings evicted events
    /// after it. When the replay would exceed `maxBytes`, the NEWEST events that fit are replayed and the older
    /// ones counted into the gap (reason `replay_limit` if nothing was evicted): one request cannot make the loop
    /// build and queue megabytes, and the subscriber still learns what it missed.
    ///
    /// Cost: a k-way merge from the newest event back (a max-heap of one cursor per room), so the work is the
    /// events replayed plus the rooms, not every event held. A resume point from the future replays nothing.
    func replay(after resumeAfter: EventID, epoch: UInt64, for subscription: Subscription, maxBytes: Int) -> Replay {
        let restart = resumeAfter.epoch != epoch
        let after = restart ? 0 : resumeAfter.sequence
        var lost: [Int64: Int?] = [:]
        var heap: [Cursor] = []
        let candidates: [Int64] = subscription.rooms.map { Array($0) } ?? Array(rooms.keys)
        // Something newer than the resume point was forgotten (a removed room): a room named by the subscription
        // whose ring is gone, or was made again after the resume point, may have lost events nobody can count.
        let forgotten = !restart && after < forgottenThrough
        for room in candidates {
            guard let ring = rooms[room] else {
                if forgotten { lost[room] = .some(nil) }
                continue
            }
            if !restart, case .some(let missed) = ring.loss(after: after) {
                lost[room] = missed
            } else if forgotten && ring.firstSequence > after {
                lost[room] = .some(nil)
            }
            let start = ring.firstIndex(after: after)
            if start < ring.count {
                heap.append(Cursor(room: room, ring: ring, start: start, position: ring.count - 1))
            }
        }
        // Sorted newest first, the array already is a max-heap.
        heap.sort { $0.sequence > $1.sequence }
        var events: [PublishedEvent] = []
        var bytes = 0
        while var top = heap.first {
            let event = top.ring[top.position]
            if matches(event, subscription) {
                if bytes + event.serverSentEvent.count > maxBytes { break }
                bytes += event.serverSentEvent.count
                events.append(event)
            }
            if top.position > top.start {
                top.position -= 1
                heap[0] = top
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            Self.siftDown(&heap)
        }
        events.reverse()
        // What is left did not fit: count the events the subscriber would have received.
        var trimmed: [Int64: Int] = [:]
        for cursor in heap {
            var count = 0
            for index in cursor.start...cursor.position where matches(cursor.ring[index], subscription) { count += 1 }
            if count > 0 { trimmed[cursor.room, default: 0] += count }
        }
        // Every room (no `rooms=`): the forgotten rooms are not named anywhere any more; say "some rooms, unknown".
        let forgottenUnnamed = forgotten && subscription.rooms == nil
        return Replay(
            gap: gap(
                restart: restart, subscription: subscription, lost: lost, trimmed: trimmed,
                forgottenUnnamed: forgottenUnnamed),
            events: events)
    }

    private func gap(
        restart: Bool, subscription: Subscription, lost: [Int64: Int?], trimmed: [Int64: Int], forgottenUnnamed: Bool
    ) -> GapReport? {
        if restart {
            // Whatever the previous run published after the resume point is unknown here: no counts.
            return GapReport(reason: .restart, rooms: subscription.rooms.map { $0.sorted().map { ($0, nil) } })
        }
        if forgottenUnnamed { return GapReport(reason: .history, rooms: nil) }
        guard !lost.isEmpty || !trimmed.isEmpty else { return nil }
        let rooms = Set(lost.keys).union(trimmed.keys).sorted().map { room -> (room: Int64, missed: Int?) in
            let extra = trimmed[room] ?? 0
            guard let evicted = lost[room] else { return (room, extra) }
            return (room, evicted.map { $0 + extra })
        }
        return GapReport(reason: lost.isEmpty ? .replayLimit : .history, rooms: rooms)
    }

    /// Restores the max-heap order (by sequence) after the root changed.
    private static func siftDown(_ heap: inout [Cursor]) {
        var index = 0
        while true {
            let left = 2 * index + 1
            guard left < heap.count else { return }
            var largest = left
            if left + 1 < heap.count, heap[left + 1].sequence > heap[left].sequence { largest = left + 1 }
            guard heap[largest].sequence > heap[index].sequence else { return }
            heap.swapAt(index, largest)
            index = largest
        }
    }
}
