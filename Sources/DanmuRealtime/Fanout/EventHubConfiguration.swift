extension EventHub {
    /// What a subscriber whose connection cannot keep up gets.
    public enum SlowSubscriberPolicy: String, Sendable {
        /// Stop sending while its queue is above `subscriberQueueBytes`, count the events it misses per room, and
        /// once its connection has drained send ONE gap event naming the rooms and counts (`"reason":"slow"`),
        /// then go on with new events. The client stays connected and learns exactly what it missed.
        case skipToNewest
        /// Close it after what is queued (a WebSocket gets close code 1008 first); counted in
        /// `Statistics.subscribersDisconnected`. It gets no more events; if it still has not read its queue
        /// `stalledSubscriberTimeout` later, it is closed at once (`SubscriberOutput.closeNow`). The client may
        /// reconnect with its `Last-Event-ID`, which replays what history still holds.
        case disconnect
    }

    /// The hub's bounds and timings.
    public struct Configuration: Sendable {
        /// Events each room's history ring keeps for resumes (`since=`, `Last-Event-ID`).
        public var historyPerRoom: Int
        /// A subscriber whose connection holds more unsent bytes than this (`SubscriberOutput.pendingBytes`) is
        /// slow and gets `slowSubscriberPolicy`.
        public var subscriberQueueBytes: Int
        public var slowSubscriberPolicy: SlowSubscriberPolicy
        /// An SSE comment line (`: keep-alive`) or a WebSocket ping to every subscriber at this period, so proxies
        /// keep the stream open and a dead peer is found by the write failing.
        public var keepAliveInterval: Duration
        /// A subscriber that stays over its queue bound this long (it stopped reading) is closed at once
        /// (`closeNow`) and counted in `Statistics.subscribersTimedOut`, whatever the policy: a client that never
        /// reads must not hold a connection for ever. Checked at each keep-alive tick.
        public var stalledSubscriberTimeout: Duration
        /// The `retry:` an SSE stream starts with: how long a browser waits before reconnecting.
        public var reconnectDelay: Duration
        /// At most this many bytes of held events are replayed on a resume: the newest ones; the older ones are
        /// counted into the gap event (`replay_limit`).
        public var maxReplayBytes: Int
        /// The largest message a WebSocket client may send (a subscribe message); bigger closes with 1009.
        public var maxClientMessageBytes: Int
        /// Events handed over by the workers and not yet taken by the loop. Above it a publishing worker waits
        /// for the loop's next drain (backpressure on the collector, not loss), at most `maxPublishWait` per batch.
        public var maxQueuedEvents: Int
        /// How long a publishing worker waits for room before queueing its batch anyway (a stopped or stalled
        /// loop must not hang the collector's workers forever).
        public var maxPublishWait: Duration
        /// The shortest time between two deliveries to the subscribers (flushes). Events that arrive within it of the
        /// previous flush wait for the next one, so each subscriber gets ONE write carrying all of them: at 100
        /// events/s and 10,000 subscribers, one write per (event, subscriber) would be 1 M syscalls/s (measured
        /// 5–8.6 µs of CPU each on loopback, BENCHMARKS.md "Realtime"). The first event after a quiet spell goes out
        /// at once; the added latency is at most this. `.zero`: every drain of the inbox is a flush (the old
        /// behaviour, still coalescing what arrived before the loop took it).
        public var flushInterval: Duration
        /// The epoch of event ids (`EventID`); nil: CLOCK_REALTIME in microseconds when the hub is made, which
        /// differs between runs of the process. A test pins it.
        public var epoch: UInt64?

        public init(
            historyPerRoom: Int = 1_000, subscriberQueueBytes: Int = 256 << 10,
            slowSubscriberPolicy: SlowSubscriberPolicy = .skipToNewest, keepAliveInterval: Duration = .seconds(15),
            stalledSubscriberTimeout: Duration = .seconds(60),
            reconnectDelay: Duration = .seconds(3), maxReplayBytes: Int = 1 << 20,
            maxClientMessageBytes: Int = 64 << 10, maxQueuedEvents: Int = 65_536,
            maxPublishWait: Duration = .seconds(1), flushInterval: Duration = .milliseconds(20),
            epoch: UInt64? = nil
        ) {
            self.historyPerRoom = historyPerRoom
            self.subscriberQueueBytes = subscriberQueueBytes
            self.slowSubscriberPolicy = slowSubscriberPolicy
            self.keepAliveInterval = keepAliveInterval
            self.stalledSubscriberTimeout = stalledSubscriberTimeout
            self.reconnectDelay = reconnectDelay
            self.maxReplayBytes = maxReplayBytes
            self.maxClientMessageBytes = maxClientMessageBytes
            self.maxQueuedEvents = maxQueuedEvents
            self.maxPublishWait = maxPublishWait
            self.flushInterval = flushInterval
            self.epoch = epoch
        }
    }

    /// The hub's counters; `EventHub.statistics` returns a copy from any thread.
    public struct Statistics: Sendable, Equatable {
        /// Open SSE subscribers.
        public var serverSentEventSubscribers = 0
        /// Open WebSocket subscribers.
        public var webSocketSubscribers = 0
        /// Subscribers opened since the hub started (both kinds).
        public var subscribersOpened: UInt64 = 0
        /// Events that reached the loop (each once, whatever the number of subscribers).
        public var eventsPublished: UInt64 = 0
        /// Events written to a subscriber (event × subscriber), replays included.
        public var deliveries: UInt64 = 0
        /// Events not sent to a slow subscriber under `.skipToNewest` (event × subscriber).
        public var eventsSkipped: UInt64 = 0
        /// Subscribers closed by `.disconnect`.
        public var subscribersDisconnected: UInt64 = 0
        /// Subscribers closed because they stayed over their bound for `stalledSubscriberTimeout`.
        public var subscribersTimedOut: UInt64 = 0
        /// Gap events sent (slow, history and restart gaps).
        public var gapsReported: UInt64 = 0
        /// Rooms with a history ring.
        public var roomsInHistory = 0
        /// Events held by all rings.
        public var eventsInHistory = 0
        /// Deliveries to the subscribers: each gives every subscriber at most one write (its events of the flush).
        public var flushes: UInt64 = 0
        /// Events dropped because they arrived after `close()` or while the reactor was not running.
        public var eventsDropped: UInt64 = 0

        public init() {}

        /// Open subscribers of both kinds.
        public var subscribers: Int { serverSentEventSubscribers + webSocketSubscribers }
    }
}
