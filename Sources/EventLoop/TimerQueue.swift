/// Identifies one scheduled timer (slot + generation: cancelling a fired or cancelled timer is a no-op, even when its
/// slot has been reused).
public struct TimerID: Hashable, Sendable, CustomStringConvertible {
    let slot: UInt32
    let generation: UInt32

    /// `timer#3.1`.
    public var description: String { "timer#\(slot).\(generation)" }
}

/// An indexed 4-ary min-heap of deadlines: schedule, cancel and fire are O(log n), nothing scans.
///
/// Timers live in a slot table (`entries`, reused through a free list) and the heap holds small
/// `(deadline, sequence, slot)` nodes, so sifting touches one contiguous array; each entry remembers its heap
/// index so `cancel` removes it in O(log n). Equal deadlines fire in scheduling order (the sequence number).
/// The queue knows no clock: the caller passes `now` (nanoseconds), which lets tests drive it with a manual clock.
/// 10,000 rooms' 30 s heartbeats are 10,000 entries: a few hundred KiB and ~14 comparisons per operation.
struct TimerQueue<Payload> {
    private struct Entry {
        var payload: Payload?
        var period: UInt64 = 0  // 0: one-shot
        var generation: UInt32 = 0
        var nextFree: Int32 = -1  // free-list link while the slot is free
    }

    private struct Node {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32

        @inline(__always) static func < (a: Node, b: Node) -> Bool {
            a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
        }
    }

    private var entries: [Entry] = []
    /// Heap position of each slot, -1 when free. Kept apart from `entries` so that sifting, which updates it at
    /// every level, touches 4 bytes per timer instead of a whole entry: at 1,000,000 timers it is cache misses that
    /// cost, not comparisons.
    private var heapIndex: [Int32] = []
    private var heap: [Node] = []
    private var freeHead: Int32 = -1
    /// A 4-ary heap: half the depth of a binary one, and the 4 children of a node share a cache line or two.
    private static var arity: Int { 4 }
    private var sequence: UInt64 = 0

    /// Number of pending timers.
    var count: Int { heap.count }

    /// The earliest deadline, or nil when no timer is pending.
    var nextDeadline: UInt64? { heap.first?.deadline }

    /// Adds a timer firing at `deadline` and then, if `period > 0`, every `period` nanoseconds.
    mutating func schedule(at deadline: UInt64, period: UInt64 = 0, _ payload: Payload) -> TimerID {
        let slot: Int
        if freeHead >= 0 {
            slot = Int(freeHead)
            freeHead = entries[slot].nextFree
        } else {
            slot = entries.count
            precondition(slot < Int(UInt32.max), "too many timers")
            entries.append(Entry())
            heapIndex.append(-1)
        }
        entries[slot].payload = payload
        entries[slot].period = period
        entries[slot].nextFree = -1
        sequence &+= 1
        heap.append(Node(deadline: deadline, sequence: sequence, slot: UInt32(slot)))
        heapIndex[slot] = Int32(heap.count - 1)
        siftUp(heap.count - 1)
        return TimerID(slot: UInt32(slot), generation: entries[slot].generation)
    }

    /// Whether `timer` is still pending.
    func isPending(_ timer: TimerID) -> Bool {
        let slot = Int(timer.slot)
        return slot < entries.count && entries[slot].generation == timer.generation && heapIndex[slot] >= 0
    }

    /// Removes a pending timer; returns false (and does nothing) for a fired, cancelled or unknown id.
    @discardableResult
    mutating func cancel(_ timer: TimerID) -> Bool {
        guard isPending(timer) else { return false }
        let slot = Int(timer.slot)
        removeHeapNode(at: Int(heapIndex[slot]))
        free(slot)
        return true
    }

    /// Takes the earliest timer due at `now`, if any. A repeating timer is put back at its next deadline (missed
    /// periods are skipped, keeping the phase) and stays pending; a one-shot timer is removed.
    mutating func popExpired(now: UInt64) -> (TimerID, Payload)? {
        guard let root = heap.first, root.deadline <= now else { return nil }
        let slot = Int(root.slot)
        let id = TimerID(slot: root.slot, generation: entries[slot].generation)
        let period = entries[slot].period
        if period > 0 {
            let missed = (now - root.deadline) / period + 1
            sequence &+= 1
            // Saturating: a period near `Reactor.distantFuture` must not wrap into the past and fire every turn.
            let (step, stepOverflow) = missed.multipliedReportingOverflow(by: period)
            let (next, nextOverflow) = root.deadline.addingReportingOverflow(step)
            heap[0].deadline = stepOverflow || nextOverflow ? UInt64.max : next
            heap[0].sequence = sequence
            siftDown(0)
            return (id, entries[slot].payload!)
        }
        removeHeapNode(at: 0)
        let payload = entries[slot].payload!
        free(slot)
        return (id, payload)
    }

    /// Drops every timer (their payloads are released).
    mutating func removeAll() {
        entries = []
        heapIndex = []
        heap = []
        freeHead = -1
    }

    private mutating func free(_ slot: Int) {
        entries[slot].payload = nil
        heapIndex[slot] = -1
        entries[slot].generation &+= 1
        entries[slot].nextFree = freeHead
        freeHead = Int32(slot)
    }

    private mutating func removeHeapNode(at index: Int) {
        let last = heap.count - 1
        if index != last {
            heap.swapAt(index, last)
            heapIndex[Int(heap[index].slot)] = Int32(index)
        }
        heap.removeLast()
        if index < heap.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var index = start
        let node = heap[index]
        while index > 0 {
            let parent = (index - 1) / TimerQueue.arity
            guard node < heap[parent] else { break }
            heap[index] = heap[parent]
            heapIndex[Int(heap[index].slot)] = Int32(index)
            index = parent
        }
        heap[index] = node
        heapIndex[Int(node.slot)] = Int32(index)
    }

    private mutating func siftDown(_ start: Int) {
        var index = start
        let node = heap[index]
        let count = heap.count
        while true {
            let first = TimerQueue.arity * index + 1
            guard first < count else { break }
            var child = first
            for candidate in (first + 1)..<min(first + TimerQueue.arity, count) where heap[candidate] < heap[child] {
                child = candidate
            }
            guard heap[child] < node else { break }
            heap[index] = heap[child]
            heapIndex[Int(heap[index].slot)] = Int32(index)
            index = child
        }
        heap[index] = node
        heapIndex[Int(node.slot)] = Int32(index)
    }
}
