import EventLoop
import Glibc

/// Records into Redis: pipelined `XADD key MAXLEN ~ N * room R kind K [id_str I] json J` to a global stream
/// and/or a per-room stream, and/or `PUBLISH channel json`, over one connection on the reactor.
///
/// Exactly once across a lost connection: a batch goes out as transactions of at most `transactionSize`
/// records, each one `MULTI … EXEC` that also sets the writer's token key to a token naming its last record
/// (SipHash of its room, time and JSON). The next transaction is sent only once the last one's EXEC reply came
/// and was clean, so what Redis applied is always a prefix of the batch, ending where the token says. A
/// transaction whose reply never came is "in doubt"; before the next write the sink reads the key and skips the
/// records up to that one, which Redis already applied (the retry starts with the same records, whatever batch
/// boundaries the spool gives it). A connection that drops is reopened on the next write; the runner's retry
/// backoff paces the attempts and its spool keeps what arrives meanwhile. (After a `SIGKILL` of the process,
/// the in-doubt batch is replayed from the spool with the same check on the first write; a batch split
/// differently on replay is at-least-once.)
///
/// The token key is per writer: `danmu:sink:<target>:last-batch:<writer>`, `writer` from the URL's `writer=`
/// (`RedisURL.writer`). Several writers of one stream (a cluster's nodes) must each have their own: with one
/// key per stream, a writer in doubt read another's token, missed, and wrote its batch twice. The name must
/// stay the same across a restart, so that the spool's replay after a `SIGKILL` finds the token the killed
/// process set: `danmu-cli` uses the host name and the absolute spool path (`writerIdentity(spoolPath:)`),
/// which is stable across restarts and already unique per writer on a host (two writers cannot share a spool).
/// Without a writer the key is `danmu:sink:<target>:last-batch`, right for a stream with one writer.
///
/// While Redis executes one transaction the sink encodes the next, so the two processes overlap instead of
/// taking turns; EXEC's stream IDs are read only for errors (`RedisConnection.expect(_:keepBulkContent:)`).
///
/// A reply that is an error (WRONGTYPE: the key is not a stream) fails the write like a lost connection:
/// retried with backoff and spooled meanwhile, so fixing the key loses nothing (the transactions before it are
/// not written again; the one refused is, whole: Redis does not roll back its commands that succeeded).
public final class RedisSink: Sink, @unchecked Sendable {
    public let url: RedisURL
    public let replyTimeout: Duration
    /// Records per `MULTI … EXEC`: large enough that MULTI, SET, EXEC and the reply's round trip are a small
    /// share, small enough that encoding the first one (when Redis waits) is short.
    public let transactionSize: Int
    private let reactor: Reactor
    /// The in-doubt token's key (see above).
    let tokenKey: String
    private let tokenHasher = SipHash24(key: Array("danmu-batch-tok!".utf8))
    // Writer-thread state.
    private var connection: RedisConnection?
    private var resume = Resume.inDoubt
    // The constant parts of an XADD, encoded once: `[MAXLEN ~ N] *` after the key, the whole head of the global
    // stream's command, the per-room key's prefix, and how many arguments come before the fields.
    private let xaddTail: [UInt8]
    private let globalStreamHead: [UInt8]
    private let roomStreamPrefix: [UInt8]
    private let xaddFixedArguments: Int
    /// Replies per record: one per XADD or PUBLISH.
    private let commandsPerRecord: Int

    /// What the next write must skip first.
    private enum Resume {
        /// Nothing: the last write's replies all came and were clean.
        case clean
        /// A reply never came: the token key says what Redis applied.
        case inDoubt
        /// Replies came, one was an error: Redis applied up to this token (a record's), not past it.
        case appliedThrough(String)
    }

    /// `reactor` must be running; the connection is opened on the first write (so a server that is down at
    /// start is a backlog, not a failure to start).
    public init(url: RedisURL, reactor: Reactor, replyTimeout: Duration = .seconds(10), transactionSize: Int = 512) {
        self.url = url
        self.reactor = reactor
        self.replyTimeout = replyTimeout
        self.transactionSize = max(1, transactionSize)
        let target = url.stream ?? url.roomStreamPrefix ?? url.publishChannel ?? "danmu"
        tokenKey = "danmu:sink:\(target):last-batch" + (url.writer.map { ":" + $0 } ?? "")
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
        commandsPerRecord =
            (url.stream == nil ? 0 : 1) + (url.roomStreamPrefix == nil ? 0 : 1) + (url.publishChannel == nil ? 0 : 1)
    }

    /// `host:/absolute/spool/path`: a writer name that survives a restart (see the type's comment).
    public static func writerIdentity(spoolPath: String) -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var path = spoolPath
        if !path.hasPrefix("/") {
            var directory = [CChar](repeating: 0, count: 4096)
            if getcwd(&directory, directory.count) != nil {
                path =
                    String(decoding: directory.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    + "/" + path
            }
        }
        return (host.isEmpty ? "localhost" : host) + ":" + path
    }

    public var name: String { "redis://\(url.host):\(url.port)/\(url.database)" }

    public func write(_ whole: [SinkRecord]) throws(PipelineError) {
        let connection = try connected()
        var batch = whole[...]
        switch resume {
        case .clean: break
        case .appliedThrough(let applied):
            if let index = batch.lastIndex(where: { token(of: $0) == applied }) { batch = batch[(index + 1)...] }
        case .inDoubt:
            // The last transaction's EXEC reply never came: Redis may have applied it. The key names the last
            // record Redis applied; if it is in this batch (a retry starts with the records of the one in doubt,
            // perhaps with more behind them when they came back from the spool), everything up to it is there.
            var get: [UInt8] = []
            RESPCommand.append(["GET", tokenKey], to: &get)
            let reply = try send(connection, get)
            if case .bulkString(let value?) = reply[0],
                let applied = batch.lastIndex(where: { Array(token(of: $0).utf8) == value })
            {
                batch = batch[(applied + 1)...]
            }
        }
        resume = .clean
        guard !batch.isEmpty else { return }
        var start = batch.startIndex
        var current = encodeTransaction(batch[start..<min(start + transactionSize, batch.endIndex)])
        var appliedThrough: String?
        while true {
            let end = min(start + transactionSize, batch.endIndex)
            resume = .inDoubt
            do {
                try connection.expect((end - start) * commandsPerRecord + 3, keepBulkContent: false)
                try connection.write(current.bytes)
            } catch {
                drop(connection)
                throw error
            }
            // Encoded while Redis works on this one; sent only after its reply (so what Redis applied stays a
            // prefix of the batch, which the token describes).
            let following =
                end < batch.endIndex ? encodeTransaction(batch[end..<min(end + transactionSize, batch.endIndex)]) : nil
            let replies: [RESPValue]
            do {
                replies = try connection.wait(timeout: replyTimeout)
            } catch {
                drop(connection)
                throw error
            }
            try check(replies, connection, appliedBefore: appliedThrough)
            resume = .clean
            guard let following else { return }
            appliedThrough = current.token
            current = following
            start = end
        }
    }

    /// One transaction's commands and the token its SET stores.
    private struct Transaction {
        var bytes: [UInt8]
        var token: String
    }

    /// `MULTI`, each record's XADDs / PUBLISH, `SET tokenKey token`, `EXEC`, in one buffer.
    private func encodeTransaction(_ slice: ArraySlice<SinkRecord>) -> Transaction {
        let token = token(of: slice.last!)
        // Records are read in place through the buffer: a `for record in` copy of a SinkRecord retains and
        // releases each of its strings and arrays, which was most of this thread's time (perf).
        let bytes = slice.withUnsafeBufferPointer { records in
            var out: [UInt8] = []
            // The JSON, plus field names, headers, key and id_str: one allocation for the transaction, most times.
            var capacity = 256
            for i in records.indices { capacity += (records[i].json.count + 192) * (commandsPerRecord + 1) }
            out.reserveCapacity(capacity)
            RESPCommand.append(["MULTI"], to: &out)
            for i in records.indices { appendCommands(records[i], to: &out) }
            RESPCommand.append(["SET", tokenKey, token], to: &out)
            RESPCommand.append(["EXEC"], to: &out)
            return out
        }
        return Transaction(bytes: bytes, token: token)
    }

    /// One record's XADD key [MAXLEN ~ N] * room R kind K [id_str I] json J (global and/or per-room stream)
    /// and PUBLISH, encoded straight into `out`.
    private func appendCommands(_ record: SinkRecord, to out: inout [UInt8]) {
        let arguments = xaddFixedArguments + (record.idStr == nil ? 6 : 8)
        if url.stream != nil {
            RESPCommand.appendArrayHeader(arguments, to: &out)
            out.append(contentsOf: globalStreamHead)
            appendFields(record, to: &out)
        }
        if url.roomStreamPrefix != nil {
            RESPCommand.appendArrayHeader(arguments, to: &out)
            out.append(contentsOf: Self.xadd)
            RESPCommand.appendBulk(decimal: record.room, after: roomStreamPrefix, to: &out)
            out.append(contentsOf: xaddTail)
            appendFields(record, to: &out)
        }
        if let channel = url.publishChannel {
            RESPCommand.appendArrayHeader(3, to: &out)
            RESPCommand.appendBulk("PUBLISH", to: &out)
            RESPCommand.appendBulk(channel, to: &out)
            RESPCommand.appendBulk(record.json, to: &out)
        }
    }

    /// A transaction's replies: `+OK`, a `+QUEUED` per command, EXEC's array. Throws when any is not; `resume`
    /// says then what Redis applied: unknown (in doubt) when the replies no longer line up, else everything
    /// before this transaction (`appliedBefore`, nil: nothing of this write).
    private func check(_ replies: [RESPValue], _ connection: RedisConnection, appliedBefore: String?)
        throws(PipelineError)
    {
        let before = appliedBefore.map(Resume.appliedThrough) ?? .clean
        guard case .simpleString("OK") = replies[0] else {
            drop(connection)
            throw .unavailable("MULTI refused: \(replies[0])")
        }
        for reply in replies[1..<replies.count - 1] {
            if case .error(let message) = reply {
                // EXEC answers EXECABORT: none of this transaction was applied.
                resume = before
                throw .unavailable("Redis refused a queued command: \(message)")
            }
        }
        guard case .array(let results?) = replies[replies.count - 1] else {
            // A nil array is EXEC's "aborted" (a WATCH, which this sink never sends); anything else is not Redis
            // speaking. Either way this connection's replies can no longer be trusted to line up.
            drop(connection)
            throw .unavailable("EXEC failed: \(replies[replies.count - 1])")
        }
        for result in results {
            if case .error(let message) = result {
                // The commands that succeeded stay (Redis does not roll back): this transaction is written again.
                resume = before
                throw .unavailable("Redis refused a command: \(message)")
            }
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

    /// One command, its reply; a failure drops the connection.
    private func send(_ connection: RedisConnection, _ bytes: [UInt8]) throws(PipelineError) -> [RESPValue] {
        do {
            return try connection.send(bytes, replies: 1, timeout: replyTimeout)
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
