import EventLoop

/// Records into Redis: pipelined `XADD key MAXLEN ~ N * room … kind … id_str … json …` to a global stream
/// and/or a per-room stream, and/or `PUBLISH channel json`, over one connection on the reactor.
///
/// Exactly once across a lost connection: each batch is one `MULTI … EXEC` that also sets
/// `danmu:sink:<target>:last-batch` to a token naming the batch's last record (SipHash of its room, time and
/// JSON). A batch whose reply never came is "in doubt"; before the next write the sink reads that key and skips
/// the records up to that one, which Redis already applied (the retry starts with the same records, whatever
/// batch boundaries the spool gives it). A connection that drops is reopened on the next write; the runner's retry backoff paces the
/// attempts and its spool keeps what arrives meanwhile. (After a `SIGKILL` of the process, the in-doubt batch
/// is replayed from the spool with the same check on the first write; a batch split differently on replay
/// is at-least-once.)
///
/// A reply that is an error (WRONGTYPE: the key is not a stream) fails the write like a lost connection:
/// retried with backoff and spooled meanwhile, so fixing the key loses nothing.
public final class RedisSink: Sink, @unchecked Sendable {
    public let url: RedisURL
    public let replyTimeout: Duration
    private let reactor: Reactor
    private let tokenKey: String
    private let tokenHasher = SipHash24(key: Array("danmu-batch-tok!".utf8))
    // Writer-thread state.
    private var connection: RedisConnection?
    private var inDoubt = true

    /// `reactor` must be running; the connection is opened on the first write (so a server that is down at
    /// start is a backlog, not a failure to start).
    public init(url: RedisURL, reactor: Reactor, replyTimeout: Duration = .seconds(10)) {
        self.url = url
        self.reactor = reactor
        self.replyTimeout = replyTimeout
        tokenKey = "danmu:sink:\(url.stream ?? url.roomStreamPrefix ?? url.publishChannel ?? "danmu"):last-batch"
    }

    public var name: String { "redis://\(url.host):\(url.port)/\(url.database)" }

    public func write(_ whole: [SinkRecord]) throws(PipelineError) {
        let connection = try connected()
        var batch = whole[...]
        if inDoubt {
            // The last write's EXEC reply never came: Redis may have applied it. The key names the last record
            // Redis applied; if it is in this batch (a retry starts with the records of the one in doubt, perhaps
            // with more behind them when they came back from the spool), everything up to it is already there.
            var get: [UInt8] = []
            RESPCommand.append(["GET", tokenKey], to: &get)
            let reply = try send(connection, get, replies: 1)
            if case .bulkString(let value?) = reply[0],
                let applied = batch.lastIndex(where: { Array(token(of: $0).utf8) == value })
            {
                batch = batch[(applied + 1)...]
            }
            inDoubt = false
            if batch.isEmpty { return }
        }
        let lastToken = token(of: batch.last!)
        var out: [UInt8] = []
        out.reserveCapacity(batch.count * 256)
        RESPCommand.append(["MULTI"], to: &out)
        var queued = 0
        for record in batch {
            var fields: [[UInt8]] = [
                Array("room".utf8), Array(String(record.room).utf8), Array("kind".utf8), Array(record.kind.utf8),
            ]
            if let idStr = record.idStr { fields += [Array("id_str".utf8), Array(idStr.utf8)] }
            fields += [Array("json".utf8), record.json]
            for key in streams(for: record) {
                var command: [[UInt8]] = [Array("XADD".utf8), Array(key.utf8)]
                if url.maxLength > 0 {
                    command += [Array("MAXLEN".utf8), [UInt8(ascii: "~")], Array(String(url.maxLength).utf8)]
                }
                command.append([UInt8(ascii: "*")])
                RESPCommand.append(command + fields, to: &out)
                queued += 1
            }
            if let channel = url.publishChannel {
                RESPCommand.append([Array("PUBLISH".utf8), Array(channel.utf8), record.json], to: &out)
                queued += 1
            }
        }
        RESPCommand.append(["SET", tokenKey, lastToken], to: &out)
        RESPCommand.append(["EXEC"], to: &out)
        inDoubt = true
        let replies = try send(connection, out, replies: queued + 3)
        guard case .simpleString("OK") = replies[0] else { throw .unavailable("MULTI refused: \(replies[0])") }
        for reply in replies[1..<replies.count - 1] {
            if case .error(let message) = reply { throw .unavailable("Redis refused a queued command: \(message)") }
        }
        guard case .array(let results?) = replies[replies.count - 1] else {
            throw .unavailable("EXEC failed: \(replies[replies.count - 1])")
        }
        inDoubt = false
        for result in results {
            if case .error(let message) = result { throw .unavailable("Redis refused a command: \(message)") }
        }
    }

    private func streams(for record: SinkRecord) -> [String] {
        var keys: [String] = []
        if let stream = url.stream { keys.append(stream) }
        if let prefix = url.roomStreamPrefix { keys.append(prefix + String(record.room)) }
        return keys
    }

    /// Names one record: SipHash of its room, receive time and JSON.
    private func token(of record: SinkRecord) -> String {
        var bytes: [UInt8] = Array("\(record.room):\(record.receivedAt):".utf8)
        bytes += record.json
        return AnonymizeStage.hex(tokenHasher.hash(bytes))
    }

    private func connected() throws(PipelineError) -> RedisConnection {
        if let connection, !connection.isClosed { return connection }
        let fresh = RedisConnection(url: url, reactor: reactor)
        try fresh.open()
        connection = fresh
        return fresh
    }

    private func send(_ connection: RedisConnection, _ bytes: [UInt8], replies: Int) throws(PipelineError)
        -> [RESPValue]
    {
        do {
            return try connection.send(bytes, replies: replies, timeout: replyTimeout)
        } catch {
            connection.close()
            self.connection = nil
            throw error
        }
    }

    public func close() {
        connection?.close()
        connection = nil
    }
}
