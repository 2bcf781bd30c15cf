import EventLoop

/// The collector's events as an `AsyncSequence` (`for try await event in collector.makeEventStream() { … }`).
///
/// Policy — lossless, with backpressure instead of a drop rule: events wait in a buffer until the consumer
/// takes them. When more than `highWatermark` events are waiting, the collector pauses reading on **every**
/// room's socket (TCP then pushes back on the servers); when the consumer has brought the buffer down to
/// `lowWatermark`, reading resumes. Memory is therefore bounded by the high mark plus what was already in
/// flight (each room's queue is itself bounded the same way). Consequence: a consumer that stops iterating
/// stalls the whole collector, by design. The sequence ends after `shutdown()` has delivered everything.
///
/// One consumer at a time: a second task awaiting `next()` while another waits gets
/// `RoomEventStreamError.concurrentConsumer`. Cancelling the consuming task ends its iteration (`next()` returns
/// nil); the events not taken stay buffered for the next iteration, and the sockets stay paused until someone
/// takes them.
public struct RoomEventStream: AsyncSequence, Sendable {
    public typealias Element = RoomEvent
    public typealias Failure = RoomEventStreamError

    let buffer: EventStreamBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: EventStreamBuffer

        public mutating func next() async throws(RoomEventStreamError) -> RoomEvent? {
            try await buffer.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RoomEventStreamError)
            -> RoomEvent?
        {
            try await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }
}

/// Why iterating a `RoomEventStream` failed.
public enum RoomEventStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another task is already waiting in `next()`: the stream has one consumer at a time.
    case concurrentConsumer

    public var description: String {
        switch self {
        case .concurrentConsumer:
            return "RoomEventStream: another task is already iterating; the stream supports one consumer at a time"
        }
    }
}

/// The buffer behind `RoomEventStream`: pushed to by worker threads, drained by one async consumer.
final class EventStreamBuffer: Sendable {
    private struct State {
        var items: [RoomEvent] = []
        var head = 0
        var waiter: UnsafeContinuation<Result<RoomEvent?, RoomEventStreamError>, Never>?
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
        var resumeWaiter: (UnsafeContinuation<Result<RoomEvent?, RoomEventStreamError>, Never>, RoomEvent)?
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
        if let (waiter, event) = resumeWaiter { waiter.resume(returning: .success(event)) }
        if pressure { onPressure(true) }
    }

    /// Ends the sequence once the buffered events have been taken.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .success(nil))
    }

    /// Whether a consumer is parked in `next()` (tests).
    var hasWaiter: Bool { state.withLock { $0.waiter != nil } }

    /// Events waiting for the consumer.
    var count: Int { state.withLock { $0.waiting } }

    /// Whether the buffer is above its high mark (and not yet back to the low mark).
    var isPressured: Bool { state.withLock { $0.pressured } }

    func next() async throws(RoomEventStreamError) -> RoomEvent? {
        if let ready = take() { return ready.event }
        let outcome: Result<RoomEvent?, RoomEventStreamError> = await withTaskCancellationHandler {
            await withUnsafeContinuation {
                (continuation: UnsafeContinuation<Result<RoomEvent?, RoomEventStreamError>, Never>) in
                // Re-check under the lock: a push may have happened between take() and here.
                let ready: Result<Taken, RoomEventStreamError>? = state.withLock { state in
                    if let taken = Self.pop(&state, lowWatermark: lowWatermark) { return .success(taken) }
                    if state.finished { return .success(Taken(event: nil, released: false)) }
                    if state.waiter != nil { return .failure(.concurrentConsumer) }
                    // Cancelled before we could park: the handler below already ran and found no waiter.
                    if Task.isCancelled { return .success(Taken(event: nil, released: false)) }
                    state.waiter = continuation
                    return nil
                }
                switch ready {
                case .success(let taken):
                    if taken.released { onPressure(false) }
                    continuation.resume(returning: .success(taken.event))
                case .failure(let error):
                    continuation.resume(returning: .failure(error))
                case nil:
                    break
                }
            }
        } onCancel: {
            cancelWaiter()
        }
        return try outcome.get()
    }

    /// The consuming task was cancelled: its parked `next()` returns nil (the events stay buffered).
    private func cancelWaiter() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .success(nil))
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
