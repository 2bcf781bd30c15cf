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
    // The constant parts of an XADD, encoded once: `[MAXLEN ~ N] *` after the key, the whole head of the global
    // stream's command, the per-room key's prefix, and how many arguments come before the fields.
    private let xaddTail: [UInt8]
    private let globalStreamHead: [UInt8]
    private let roomStreamPrefix: [UInt8]
    private let xaddFixedArguments: Int

    /// `reactor` must be running; the connection is opened on the first write (so a server that is down at
    /// start is a backlog, not a failure to start).
    public init(url: RedisURL, reactor: Reactor, replyTimeout: Duration = .seconds(10)) {
        self.url = url
        self.reactor = reactor
        self.replyTimeout = replyTimeout
        tokenKey = "danmu:sink:\(url.stream ?? url.roomStreamPrefix ?? url.publishChannel ?? "danmu"):last-batch"
        var tail: [UInt8] = []
        if url.maxLength > 0 {
            for argument in ["MAXLEN", "~", String(url.maxLength)] { RESPCommand.appendBulk(argument, to: &tail) }
        }
        RESPCommand.appendBulk("*", to: &tail)
        xaddTail = tail
        xaddFixedArguments = url.maxLength > 0 ? 6 : 3
        var head = Self.xadd
        if let stream = url.stream { RESPCommand.appendBulk(stream, to: &head) }
        globalStreamHead = head + tail
        roomStreamPrefix = Array((url.roomStreamPrefix ?? "").utf8)
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
        // The JSON, plus field names, headers, key and id_str: one allocation for the whole batch, most times.
        let commands = (url.stream == nil ? 0 : 1) + (url.roomStreamPrefix == nil ? 0 : 1)
        out.reserveCapacity(batch.reduce(256) { $0 + ($1.json.count + 192) * (commands + 1) })
        RESPCommand.append(["MULTI"], to: &out)
        var queued = 0
        for record in batch {
            // XADD key [MAXLEN ~ N] * room R kind K [id_str I] json J, encoded straight into `out`.
            let arguments = xaddFixedArguments + (record.idStr == nil ? 6 : 8)
            if url.stream != nil {
                RESPCommand.appendArrayHeader(arguments, to: &out)
                out.append(contentsOf: globalStreamHead)
                appendFields(record, to: &out)
                queued += 1
            }
            if url.roomStreamPrefix != nil {
                RESPCommand.appendArrayHeader(arguments, to: &out)
                out.append(contentsOf: Self.xadd)
                RESPCommand.appendBulk(decimal: record.room, after: roomStreamPrefix, to: &out)
                out.append(contentsOf: xaddTail)
                appendFields(record, to: &out)
                queued += 1
            }
            if let channel = url.publishChannel {
                RESPCommand.appendArrayHeader(3, to: &out)
                RESPCommand.appendBulk("PUBLISH", to: &out)
                RESPCommand.appendBulk(channel, to: &out)
                RESPCommand.appendBulk(record.json, to: &out)
                queued += 1
            }
        }
        RESPCommand.append(["SET", tokenKey, lastToken], to: &out)
        RESPCommand.append(["EXEC"], to: &out)
        inDoubt = true
        let replies = try send(connection, out, replies: queued + 3)
        guard case .simpleString("OK") = replies[0] else {
            drop(connection)
            throw .unavailable("MULTI refused: \(replies[0])")
        }
        for reply in replies[1..<replies.count - 1] {
            if case .error(let message) = reply { throw .unavailable("Redis refused a queued command: \(message)") }
        }
        guard case .array(let results?) = replies[replies.count - 1] else {
            // A nil array is EXEC's "aborted" (a WATCH, which this sink never sends); anything else is not Redis
            // speaking. Either way this connection's replies can no longer be trusted to line up.
            drop(connection)
            throw .unavailable("EXEC failed: \(replies[replies.count - 1])")
        }
        inDoubt = false
        for result in results {
            if case .error(let message) = result { throw .unavailable("Redis refused a command: \(message)") }
        }
    }

    /// `room R kind K [id_str I] json J`: the fields after `*`.
    private func appendFields(_ record: SinkRecord, to out: inout [UInt8]) {
        out.append(contentsOf: Self.roomField)
        RESPCommand.appendBulk(decimal: record.room, to: &out)
        out.append(contentsOf: Self.kindField)
        RESPCommand.appendBulk(record.kind, to: &out)
        if let idStr = record.idStr {
            out.append(contentsOf: Self.idStrField)
            RESPCommand.appendBulk(idStr, to: &out)
        }
        out.append(contentsOf: Self.jsonField)
        RESPCommand.appendBulk(record.json, to: &out)
    }

    private static func bulk(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        RESPCommand.appendBulk(text, to: &out)
        return out
    }
    private static let xadd = bulk("XADD")
    private static let roomField = bulk("room")
    private static let kindField = bulk("kind")
    private static let idStrField = bulk("id_str")
    private static let jsonField = bulk("json")

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
            drop(connection)
            throw error
        }
    }

    /// Closes `connection`; the next write opens a new one.
    private func drop(_ connection: RedisConnection) {
        connection.close()
        self.connection = nil
    }

    /// Whether a connection is open (for tests: a reply of the wrong shape must drop it).
    var isConnected: Bool { connection.map { !$0.isClosed } ?? false }

    public func close() {
        connection?.close()
        connection = nil
    }
}
