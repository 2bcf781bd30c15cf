import EventLoop

/// A blocking Redis command client for coordination threads (a cluster node's coordinator, a dedupe stage on a
/// room's worker): pipelined commands in, their replies out, in order, within a reply timeout.
///
/// It reuses `RedisConnection` (one connection on the reactor; the caller's thread waits on its condition) and
/// adds what coordination needs on top: callers on several threads take turns (one round trip at a time, so
/// replies never interleave), and a connection that closed or timed out is replaced by a fresh one on the next
/// call, so a Redis restart costs the calls made while it is down, not the client.
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
    // Held for a whole round trip: the connection's waiting state expects one batch at a time.
    private let connection = Lock<RedisConnection?>(nil)

    /// `reactor` must be running. Nothing connects until the first call.
    public init(url: RedisURL, reactor: Reactor, replyTimeout: Duration = .seconds(2)) {
        self.url = url
        self.reactor = reactor
        self.replyTimeout = replyTimeout
    }

    /// Sends `commands` pipelined (one write) and returns one reply per command, in order.
    public func run(_ commands: [[String]]) throws(PipelineError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes: [UInt8] = []
        for command in commands { RESPCommand.append(command, to: &bytes) }
        return try send(bytes, replies: commands.count)
    }

    /// Sends commands given as byte arguments (for values that are not text).
    public func run(bytes commands: [[[UInt8]]]) throws(PipelineError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes: [UInt8] = []
        for command in commands { RESPCommand.append(command, to: &bytes) }
        return try send(bytes, replies: commands.count)
    }

    /// One command, one reply.
    public func run(_ command: [String]) throws(PipelineError) -> RESPValue {
        try run([command])[0]
    }

    /// Closes the connection (the next call opens a new one).
    public func close() {
        connection.withLock { current in
            current?.close()
            current = nil
        }
    }

    private func send(_ bytes: [UInt8], replies: Int) throws(PipelineError) -> [RESPValue] {
        try connection.withLock { (current: inout RedisConnection?) throws(PipelineError) -> [RESPValue] in
            if current == nil || current!.isClosed {
                let fresh = RedisConnection(url: url, reactor: reactor)
                try fresh.open()
                current = fresh
            }
            do throws(PipelineError) {
                return try current!.send(bytes, replies: replies, timeout: replyTimeout)
            } catch {
                // A reply that never came leaves the connection's FIFO out of step: never reuse it.
                current!.close()
                current = nil
                throw error
            }
        }
    }
}
