/// A hashed timing wheel of "who sends next", driven by ONE repeating tick timer: 10,000 rooms cost one timer,
/// and a tick touches only the entries of its slot (not every room).
///
/// An entry sits in the slot of its due tick (modulo the slot count). Entries due more than one revolution
/// ahead are visited early; the visitor sees `now` is before their due time and simply re-inserts them.
/// Loop-confined (not Sendable on purpose).
struct SendWheel<Element> {
    let tickNanoseconds: UInt64
    private var slots: [[Element]]
    /// The last tick whose slot was processed.
    private(set) var currentTick: UInt64
    private(set) var count = 0

    init(tickNanoseconds: UInt64, slotCount: Int, startNanoseconds: UInt64) {
        precondition(tickNanoseconds > 0 && slotCount > 0)
        self.tickNanoseconds = tickNanoseconds
        self.slots = Array(repeating: [], count: slotCount)
        self.currentTick = startNanoseconds / tickNanoseconds
    }

    /// Schedules `element` for the first tick at or after `dueNanoseconds` (never the tick being processed, so
    /// a visitor that re-inserts cannot loop forever within one `advance`).
    mutating func insert(_ element: Element, dueNanoseconds: UInt64) {
        let dueTick = max((dueNanoseconds + tickNanoseconds - 1) / tickNanoseconds, currentTick + 1)
        slots[Int(dueTick % UInt64(slots.count))].append(element)
        count += 1
    }

    /// Processes every tick up to the one containing `nowNanoseconds`, handing each entry of those slots to
    /// `visit` exactly once (the entry is removed first; `visit` re-inserts what should stay). After a long
    /// stall at most one revolution is walked, so every entry is still visited once.
    mutating func advance(to nowNanoseconds: UInt64, _ visit: (inout SendWheel, Element) -> Void) {
        let nowTick = nowNanoseconds / tickNanoseconds
        guard nowTick > currentTick else { return }
        let first = max(currentTick + 1, nowTick >= UInt64(slots.count) ? nowTick - UInt64(slots.count) + 1 : 0)
        // Mark the whole range as processed first: re-inserted entries go to nowTick + 1 or later.
        currentTick = nowTick
        var tick = first
        while tick <= nowTick {
            let index = Int(tick % UInt64(slots.count))
            let due = slots[index]
            slots[index] = []
            count -= due.count
            for element in due { visit(&self, element) }
            tick += 1
        }
    }
}
