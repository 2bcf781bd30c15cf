/// Where one read's batch spent its time between the IO thread and the handler: monotonic nanoseconds
/// (CLOCK_MONOTONIC, `SystemClock.monotonicNanoseconds()`) at each stage, for latency attribution.
///
/// Delivered to `DanmuCollector.Configuration.onBatchTimings` after the handler returned, on the worker that ran
/// the batch, with the batch's events (a stamp inside an event, such as the simulator's send time, then splits
/// the wire stage off). Nothing is measured while that option is nil, apart from the loop's wake-up time, which
/// the reactor keeps anyway.
public struct BatchTimings: Sendable, Equatable {
    /// The room the batch belongs to.
    public var room: Int64
    /// When `epoll_wait` returned in the IO thread's turn that read the bytes.
    public var loopWokeAt: UInt64
    /// When the IO thread cut the frames and queued the batch (after the read, before `SerialQueue.enqueue`).
    public var queuedAt: UInt64
    /// When a worker began the batch's job.
    public var startedAt: UInt64
    /// When decoding (decompression, JSON, typed events) had finished.
    public var decodedAt: UInt64
    /// When the handler's `handle(batch:)` was called.
    public var handlerCalledAt: UInt64
    /// When the handler's `handle(batch:)` returned.
    public var handlerReturnedAt: UInt64

    public init(
        room: Int64, loopWokeAt: UInt64, queuedAt: UInt64, startedAt: UInt64, decodedAt: UInt64,
        handlerCalledAt: UInt64, handlerReturnedAt: UInt64
    ) {
        self.room = room
        self.loopWokeAt = loopWokeAt
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.decodedAt = decodedAt
        self.handlerCalledAt = handlerCalledAt
        self.handlerReturnedAt = handlerReturnedAt
    }
}
