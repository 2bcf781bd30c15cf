import EventLoop

/// One Redis connection on the reactor (no thread of its own): a FIFO of expected replies, fed by one
/// `RESPReader`. `send(_:replies:timeout:)` is the blocking face for a sink's writer thread: it hands the
/// bytes to the loop and waits until that many replies arrived, the connection closed, or the timeout.
///
/// Loop-confined: `connectionID`, `reader`, `handshakeReplies` and the handler callbacks run on the IO thread;
/// `outcome` is guarded by its condition lock and is how the waiting thread learns the result.
final class RedisConnection: ConnectionHandler, @unchecked Sendable {
    enum Outcome: Sendable {
        case waiting
        case done([RESPValue])
        case failed(String)
    }

    private struct Waiting: Sendable {
        var expected = 0
        var replies: [RESPValue] = []
        var outcome = Outcome.waiting
        var open = false
        var closed = false
        /// Why it closed, kept for a `send` that comes after (a refused AUTH can be answered before the first
        /// command is sent).
        var closeReason: String?
    }

    let url: RedisURL
    private let reactor: Reactor
    private let state = ConditionLock(Waiting())
    // Loop-confined.
    private var connectionID: ConnectionID?
    private var reader = RESPReader()
    private var handshakeReplies = 0
    // The caller's thread: what `expect` asked of the reader, handed to the loop with the bytes.
    private var keepsBulkContent = true

    init(url: RedisURL, reactor: Reactor) {
        self.url = url
        self.reactor = reactor
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Connects (on the loop) and queues AUTH / SELECT ahead of anything sent, so the first `send` can follow
    /// at once; their replies are checked before any command's.
    func open() throws(PipelineError) {
        let result = reactor.executeAndWait { [self] () -> String? in
            do {
                connectionID = try reactor.connect(to: url.address, timeout: .seconds(5), handler: self)
            } catch {
                return "connect \(url.host):\(url.port): \(error)"
            }
            var handshake: [UInt8] = []
            if let password = url.password {
                RESPCommand.append(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password], to: &handshake)
                handshakeReplies += 1
            }
            if url.database != 0 {
                RESPCommand.append(["SELECT", String(url.database)], to: &handshake)
                handshakeReplies += 1
            }
            if !handshake.isEmpty { reactor.write(connectionID!, handshake) }
            return nil
        }
        switch result {
        case .none: throw .unavailable("the reactor is not running")
        case .some(.some(let why)): throw .unavailable(why)
        case .some(.none): return
        }
    }

    /// Sends `bytes` (pipelined commands) and waits for `replies` replies, in order.
    func send(_ bytes: [UInt8], replies: Int, timeout: Duration) throws(PipelineError) -> [RESPValue] {
        try expect(replies)
        try write(bytes)
        return try wait(timeout: timeout)
    }

    /// The split face of `send`, for a caller that encodes while Redis works: `expect` the replies of what
    /// follows, `write` it in any number of pieces, then `wait`. `keepBulkContent: false` keeps only the shape
    /// of bulk strings (an empty array for each): for replies read only for their errors, such as EXEC's
    /// stream IDs, which are otherwise one allocation each.
    func expect(_ replies: Int, keepBulkContent: Bool = true) throws(PipelineError) {
        let closed = state.withLock { s -> String? in
            guard !s.closed else { return s.closeReason ?? "connection to \(url.host):\(url.port) is closed" }
            s.expected = replies
            s.replies = []
            s.replies.reserveCapacity(replies)
            s.outcome = .waiting
            return nil
        }
        if let closed { throw .unavailable(closed) }
        keepsBulkContent = keepBulkContent
    }

    func write(_ bytes: [UInt8]) throws(PipelineError) {
        // The reader's mode goes with the bytes (one task, one wakeup of the loop): the previous send's replies
        // have all been read by then.
        let keep = keepsBulkContent
        let queued = reactor.execute { [self] in
            reader.keepsBulkContent = keep
            if let connectionID { reactor.write(connectionID, bytes) }
        }
        guard queued else { throw .unavailable("the reactor is not running") }
    }

    /// Waits (at most `timeout`) for the replies `expect` announced; on a timeout the connection is closed.
    func wait(timeout: Duration) throws(PipelineError) -> [RESPValue] {
        let deadline = SystemClock.monotonicNanoseconds() + timeout.nanoseconds
        let outcome = state.withLock(
            waitingUntil: { s in
                if case .waiting = s.outcome { return false }
                return true
            }, deadline: deadline
        ) { s, _ in s.outcome }
        switch outcome {
        case .done(let values): return values
        case .failed(let why): throw .unavailable(why)
        case .waiting:
            close()
            throw .unavailable("no reply from \(url.host):\(url.port) within \(timeout)")
        }
    }

    func close() {
        _ = reactor.execute { [self] in
            if let connectionID { reactor.close(connectionID) }
        }
    }

    // MARK: ConnectionHandler (IO thread)

    func connectionDidOpen(_ connection: ConnectionID) {
        state.withLock { $0.open = true }
    }

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        reader.feed(bytes)
        var values: [RESPValue] = []
        do {
            while let value = try reader.next() {
                if handshakeReplies > 0 {
                    handshakeReplies -= 1
                    if case .error(let message) = value {
                        fail("Redis refused the handshake (AUTH/SELECT): \(message)", connection)
                        return
                    }
                    continue
                }
                values.append(value)
            }
        } catch {
            fail("\(error) from \(url.host):\(url.port)", connection)
            return
        }
        guard !values.isEmpty else { return }
        var unexpected = false
        state.withLock { s in
            guard case .waiting = s.outcome, s.expected > 0 else {
                unexpected = true
                return
            }
            s.replies += values
            if s.replies.count >= s.expected {
                unexpected = s.replies.count > s.expected
                s.outcome = .done(Array(s.replies.prefix(s.expected)))
            }
        }
        state.broadcast()
        if unexpected { fail("unexpected replies from \(url.host):\(url.port)", connection) }
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
        connectionID = nil
        state.withLock { s in
            s.closed = true
            let why = "connection to \(url.host):\(url.port) closed: \(reason)"
            if s.closeReason == nil { s.closeReason = why }
            if case .waiting = s.outcome { s.outcome = .failed(why) }
        }
        state.broadcast()
    }

    private func fail(_ why: String, _ connection: ConnectionID) {
        state.withLock { s in
            s.closed = true
            if s.closeReason == nil { s.closeReason = why }
            s.outcome = .failed(why)
        }
        state.broadcast()
        reactor.close(connection)
    }
}
