/// A node's book of the room leases it holds, by the monotonic clock: no I/O and no clock of its own (`now` is
/// passed in), so it is tested with a fake clock.
///
/// The rule that makes a paused or partitioned node safe: a lease is trusted only until `sentAt + ttl - margin`,
/// where `sentAt` is when the command that set or extended it was *sent* (not when the reply came: Redis may
/// have applied it any time in between, and its TTL counts from then). A node that could not renew in time
/// finds the room past its validity here and stops it, whatever Redis says later.
public struct LeaseTable: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// Ours: renewed every period.
        case owned
        /// Marked `handoff:<id>` in Redis: still ours and collected until another node claims it.
        case handingOff
        /// Another node claimed it after our hand-over; we keep collecting until `validUntil` (the overlap that
        /// lets the new owner connect first), then stop.
        case leaving
    }

    public struct Entry: Sendable, Equatable {
        public var state: State
        /// Monotonic nanoseconds; the room's events may be written until then, never after.
        public var validUntil: UInt64
    }

    /// What `expire(now:)` took out of the table.
    public struct Expired: Sendable, Equatable {
        /// Owned or handing over, and not confirmed in time: the lease may be another node's now.
        public var lost: [Int64] = []
        /// Handed over, overlap done: a normal departure.
        public var left: [Int64] = []

        public init(lost: [Int64] = [], left: [Int64] = []) {
            self.lost = lost
            self.left = left
        }
    }

    public let ttl: UInt64
    public let margin: UInt64
    public private(set) var entries: [Int64: Entry] = [:]

    /// `ttl` and `margin` in nanoseconds; `margin` (a tenth of the TTL by default) covers Redis's clock running a
    /// little fast and the delay before our own timer fires.
    public init(ttl: UInt64, margin: UInt64? = nil) {
        self.ttl = ttl
        self.margin = margin ?? ttl / 10
    }

    public var count: Int { entries.count }
    public func rooms(in state: State) -> [Int64] {
        entries.compactMap { $0.value.state == state ? $0.key : nil }.sorted()
    }
    public func state(of room: Int64) -> State? { entries[room]?.state }

    /// True when the room's events may be written at `now`.
    public func isValid(_ room: Int64, now: UInt64) -> Bool {
        guard let entry = entries[room] else { return false }
        return now < entry.validUntil
    }

    /// The earliest validity end (when the coordinator must look again), nil when empty.
    public var earliestExpiry: UInt64? { entries.values.map(\.validUntil).min() }

    private func confirmedUntil(_ sentAt: UInt64) -> UInt64 { sentAt &+ ttl &- margin }

    /// Rooms Redis let us claim (or take back from our own hand-over) with a command sent at `sentAt`.
    public mutating func claimed(_ rooms: [Int64], sentAt: UInt64) {
        for room in rooms { entries[room] = Entry(state: .owned, validUntil: confirmedUntil(sentAt)) }
    }

    /// Rooms marked `handoff:<id>` by a command sent at `sentAt`.
    public mutating func markedHandoff(_ rooms: [Int64], sentAt: UInt64) {
        for room in rooms where entries[room] != nil {
            entries[room] = Entry(state: .handingOff, validUntil: confirmedUntil(sentAt))
        }
    }

    /// The renew script's answer for each room (1 ours, 2 ours and being handed over, 3 ours again after the
    /// key vanished, 0 not ours), for a
    /// command sent at `sentAt` and answered at `now`. Returns the rooms lost at once (owned, and Redis says not
    /// ours): stop them now. A hand-over that was taken becomes `leaving` for `overlap` nanoseconds.
    public mutating func renewed(
        _ results: [(room: Int64, result: Int64)], sentAt: UInt64, now: UInt64, overlap: UInt64
    ) -> [Int64] {
        var lost: [Int64] = []
        for (room, result) in results {
            guard let entry = entries[room] else { continue }
            switch (entry.state, result) {
            case (.owned, 1), (.handingOff, 1), (.owned, 3), (.handingOff, 3):
                entries[room] = Entry(state: .owned, validUntil: confirmedUntil(sentAt))
            case (.owned, 2), (.handingOff, 2):
                entries[room] = Entry(state: .handingOff, validUntil: confirmedUntil(sentAt))
            case (.handingOff, _):
                // Taken by another node: overlap, but never past what Redis last confirmed plus the overlap.
                entries[room] = Entry(state: .leaving, validUntil: now &+ overlap)
            case (.owned, _):
                entries[room] = nil
                lost.append(room)
            case (.leaving, _):
                break
            }
        }
        return lost.sorted()
    }

    /// Takes out every entry whose validity ended at `now`.
    public mutating func expire(now: UInt64) -> Expired {
        var expired = Expired()
        for (room, entry) in entries where now >= entry.validUntil {
            if entry.state == .leaving { expired.left.append(room) } else { expired.lost.append(room) }
        }
        for room in expired.lost + expired.left { entries[room] = nil }
        expired.lost.sort()
        expired.left.sort()
        return expired
    }

    /// Forgets rooms (released in Redis, or removed from the room set).
    public mutating func remove(_ rooms: [Int64]) {
        for room in rooms { entries[room] = nil }
    }
}
