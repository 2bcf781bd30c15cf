import EventLoop

/// A blocking Redis command client for coordination threads (a cluster node's coordinator, a dedupe stage on a
/// room's worker): pipelined commands in, their replies out, in order, within a reply timeout.
///
/// It reuses `RedisConnection` (one connection on the reactor; the caller's thread waits on its condition) and
/// adds what coordination needs on top: callers on several threads take turns (one round trip at a time, so
/// replies never interleave), and a connection that closed or timed out is replaced by a fresh one on the next
/// call, so a Redis restart costs the calls made while it is down, not the client.
///
/// Redis Cluster: point the URL at any master. `-MOVED`/`-ASK` replies are followed (at most 5 redirections
/// per batch, then an error), and the slot → node map learnt from `MOVED` routes the next batches straight
/// to the owner; see `RedisClusterRouting`.
///
/// ```swift
/// let client = RedisCommandClient(url: try RedisURL(parsing: "redis://127.0.0.1:6379"), reactor: reactor)
/// let replies = try client.run([["SADD", "{danmu}:rooms", "7"], ["INCR", "{danmu}:rooms:version"]])
/// ```
///
/// Error replies (`-ERR …`) are returned as `.error` values, not thrown: a pipelined batch may hold both, and
/// the caller knows which command may fail. Only a lost connection, a timeout or a closed reactor throws.
public final class RedisCommandClient: Sendable {
    public let url: RedisURL
    public let replyTimeout: Duration
    private let reactor: Reactor
    // Held for a whole round trip (redirections included): a connection's waiting state expects one batch at a
    // time.
    private let routing: Lock<RedisClusterRouting>

    /// `reactor` must be running. Nothing connects until the first call.
    public init(url: RedisURL, reactor: Reactor, replyTimeout: Duration = .seconds(2)) {
        self.url = url
        self.reactor = reactor
        self.replyTimeout = replyTimeout
        routing = Lock(RedisClusterRouting(seed: url))
    }

    /// Sends `commands` pipelined (one write) and returns one reply per command, in order.
    public func run(_ commands: [[String]]) throws(PipelineError) -> [RESPValue] {
        try run(bytes: commands.map { command in command.map { Array($0.utf8) } })
    }

    /// Sends commands given as byte arguments (for values that are not text).
    public func run(bytes commands: [[[UInt8]]]) throws(PipelineError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        return try routing.withLock { (routing: inout RedisClusterRouting) throws(PipelineError) -> [RESPValue] in
            try routing.run(commands, reactor: reactor, timeout: replyTimeout)
        }
    }

    /// The node a `MOVED` reply last named for `slot`, or nil while none did (a single server never does).
    public func learntNode(forSlot slot: Int) -> RedisNodeAddress? {
        routing.withLock { $0.node(forSlot: slot) }
    }

    /// One command, one reply.
    public func run(_ command: [String]) throws(PipelineError) -> RESPValue {
        try run([command])[0]
    }

    /// Closes the connections (the next call opens what it needs).
    public func close() {
        routing.withLock { $0.close() }
    }
}
