/// A room's recently emitted messages under `Delivery.everyConnection`: encoded ver-0 op-5 packets, one per
/// message, in emission order, for the connections that have not received them yet.
///
/// Messages are numbered from 0 in the order the room emitted them; each connection keeps a cursor (the number of
/// the next message it needs). The backlog holds `base..<head`. Everything every connection already has is
/// dropped after each delivery round, so with readers that keep up it is empty between ticks; a reader that lags
/// keeps at most `maxBytes` here (the oldest messages go first, and the reader skips them).
///
/// Loop-confined (lives in `SimulatorCore.rooms`).
struct RoomBacklog {
    /// Number of the first message held.
    private(set) var base: UInt64 = 0
    /// The held packets, back to back. `appendMessage` writes into it directly (no copy per message).
    private(set) var bytes: [UInt8] = []
    /// End offset in `bytes` of each held message.
    private var ends: [Int] = []
    /// Capacity kept when the backlog empties: enough for a flood chunk, without pinning a lagging reader's
    /// megabytes in every room for good.
    private static let retainedCapacity = 64 << 10

    /// Number of the next message the room will emit.
    var head: UInt64 { base + UInt64(ends.count) }
    var isEmpty: Bool { ends.isEmpty }

    /// Appends one message: `encode` appends exactly one complete packet to the buffer it is given.
    mutating func appendMessage<R>(_ encode: (inout [UInt8]) -> R) -> R {
        let result = encode(&bytes)
        ends.append(bytes.count)
        return result
    }

    /// Numbers `count` messages that no connection will read (the room's other name variant has the readers),
    /// so both variants' backlogs keep the same numbering. Only while empty.
    mutating func skip(_ count: Int) {
        precondition(ends.isEmpty, "skipping messages a connection may still need")
        base += UInt64(count)
    }

    /// The bytes of messages `first..<first + count` (all held: `base <= first`, `first + count <= head`).
    func byteRange(from first: UInt64, count: Int) -> Range<Int> {
        precondition(first >= base && first + UInt64(count) <= head, "message range not held")
        let start = Int(first - base)
        return (start == 0 ? 0 : ends[start - 1])..<ends[start + count - 1]
    }

    /// Drops the messages before `oldestNeeded` (the smallest cursor of the room's connections), and then the
    /// oldest ones still needed while more than `maxBytes` are held.
    ///
    /// Removing a prefix moves what stays, so a partial drop waits until it is at least half of what is held
    /// (amortised O(1) per message); over the byte bound, it goes down to half the bound for the same reason.
    mutating func trim(oldestNeeded: UInt64, maxBytes: Int) {
        var drop = oldestNeeded <= base ? 0 : Int(min(oldestNeeded, head) - base)
        if drop < ends.count, drop * 2 < ends.count { drop = 0 }
        if bytes.count - prefixBytes(drop) > maxBytes {
            let target = max(0, maxBytes / 2)
            while drop < ends.count, bytes.count - prefixBytes(drop) > target { drop += 1 }
        }
        guard drop > 0 else { return }
        base += UInt64(drop)
        if drop == ends.count {
            let keep = bytes.capacity <= Self.retainedCapacity
            bytes.removeAll(keepingCapacity: keep)
            ends.removeAll(keepingCapacity: keep)
            return
        }
        let removed = prefixBytes(drop)
        bytes.removeFirst(removed)
        ends.removeFirst(drop)
        for index in ends.indices { ends[index] -= removed }
    }

    private func prefixBytes(_ count: Int) -> Int { count == 0 ? 0 : ends[count - 1] }
}
