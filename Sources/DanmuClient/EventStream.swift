import EventLoop

/// The collector's events as an `AsyncSequence` (`for await event in collector.events { … }`).
///
/// Policy — lossless, with backpressure instead of a drop rule: events wait in a buffer until the consumer
/// takes them. When more than `highWatermark` events are waiting, the collector pauses reading on **every**
/// room's socket (TCP then pushes back on the servers); when the consumer has brought the buffer down to
/// `lowWatermark`, reading resumes. Memory is therefore bounded by the high mark plus what was already in
/// flight (each room's queue is itself bounded the same way). Consequence: a consumer that stops iterating
/// stalls the whole collector, by design. Meant for one consumer task; the sequence ends after `shutdown()`
/// has delivered everything.
public struct RoomEventStream: AsyncSequence, Sendable {
    public typealias Element = RoomEvent
    public typealias Failure = Never

    let buffer: EventStreamBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: EventStreamBuffer

        public mutating func next() async -> RoomEvent? {
            await buffer.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> RoomEvent? {
            await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }
}

/// The buffer behind `RoomEventStream`: pushed to by worker threads, drained by one async consumer.
final class EventStreamBuffer: Sendable {
    private struct State {
        var items: [RoomEvent] = []
        var head = 0
        var waiter: UnsafeContinuation<RoomEvent?, Never>?
        var finished = false
        var pressured = false

        var waiting: Int { items.count - head }
    }

    private let state = Lock(State())
    let highWatermark: Int
    let lowWatermark: Int
    /// Called (outside the lock) with true when the buffer passes the high mark, false when it is back at
    /// the low mark.
    private let onPressure: @Sendable (Bool) -> Void

    init(highWatermark: Int, lowWatermark: Int, onPressure: @escaping @Sendable (Bool) -> Void) {
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = min(max(0, lowWatermark), self.highWatermark - 1)
        self.onPressure = onPressure
    }

    /// Appends a room's events (in order). Never refuses: loss is never the answer, pausing the sockets is.
    func push(_ events: [RoomEvent]) {
        guard !events.isEmpty else { return }
        var resumeWaiter: (UnsafeContinuation<RoomEvent?, Never>, RoomEvent)?
        let pressure: Bool = state.withLock { state in
            guard !state.finished else { return false }
            var rest = events[...]
            if let waiter = state.waiter {
                state.waiter = nil
                resumeWaiter = (waiter, rest.removeFirst())
            }
            state.items.append(contentsOf: rest)
            if !state.pressured && state.waiting > highWatermark {
                state.pressured = true
                return true
            }
            return false
        }
        if let (waiter, event) = resumeWaiter { waiter.resume(returning: event) }
        if pressure { onPressure(true) }
    }

    /// Ends the sequence once the buffered events have been taken.
    func finish() {
        let waiter: UnsafeContinuation<RoomEvent?, Never>? = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Events waiting for the consumer.
    var count: Int { state.withLock { $0.waiting } }

    /// Whether the buffer is above its high mark (and not yet back to the low mark).
    var isPressured: Bool { state.withLock { $0.pressured } }

    func next() async -> RoomEvent? {
        if let ready = take() { return ready.event }
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<RoomEvent?, Never>) in
            // Re-check under the lock: a push may have happened between take() and here.
            let ready: Taken? = state.withLock { state in
                if let taken = Self.pop(&state, lowWatermark: lowWatermark) { return taken }
                if state.finished { return Taken(event: nil, released: false) }
                precondition(state.waiter == nil, "RoomEventStream supports one consumer at a time")
                state.waiter = continuation
                return nil
            }
            if let ready {
                if ready.released { onPressure(false) }
                continuation.resume(returning: ready.event)
            }
        }
    }

    private struct Taken {
        var event: RoomEvent?
        var released: Bool
    }

    /// Takes the next buffered event, if any (nil: none buffered and not finished).
    private func take() -> Taken? {
        let taken: Taken? = state.withLock { state in
            if let taken = Self.pop(&state, lowWatermark: lowWatermark) { return taken }
            return state.finished ? Taken(event: nil, released: false) : nil
        }
        if let taken, taken.released { onPressure(false) }
        return taken
    }

    private static func pop(_ state: inout State, lowWatermark: Int) -> Taken? {
        guard state.head < state.items.count else { return nil }
        let event = state.items[state.head]
        state.head += 1
        if state.head == state.items.count {
            state.items.removeAll(keepingCapacity: state.items.capacity <= 4096)
            state.head = 0
        } else if state.head >= 1024 && state.head * 2 >= state.items.count {
            // Compact now and then so the consumed prefix does not grow without bound.
            state.items.removeFirst(state.head)
            state.head = 0
        }
        var released = false
        if state.pressured && state.waiting <= lowWatermark {
            state.pressured = false
            released = true
        }
        return Taken(event: event, released: released)
    }
}
