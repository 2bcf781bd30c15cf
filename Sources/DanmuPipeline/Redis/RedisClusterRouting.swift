import EventLoop

/// A Redis Cluster redirection reply: `-MOVED <slot> <host:port>` (the slot lives on that node now: go there
/// from now on) or `-ASK <slot> <host:port>` (the slot is being migrated and this key already moved: send
/// `ASKING` and then the command to that node, this once).
public enum RedisRedirection: Sendable, Equatable, CustomStringConvertible {
    case moved(slot: Int, node: RedisNodeAddress)
    case ask(slot: Int, node: RedisNodeAddress)

    /// Parses an error reply's text; nil for any other reply. An empty host (`MOVED 3999 :6380`, a node that
    /// does not know its own address) means the host of the node that answered, as the cluster spec says.
    public init?(_ reply: RESPValue, answeredBy current: RedisNodeAddress) {
        guard case .error(let message) = reply else { return nil }
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK", let slot = Int(parts[1]),
            (0..<RedisKeySlot.slotCount).contains(slot), let colon = parts[2].lastIndex(of: ":"),
            let port = UInt16(parts[2][parts[2].index(after: colon)...]), port > 0
        else { return nil }
        let host = parts[2][..<colon]
        let node = RedisNodeAddress(host: host.isEmpty ? current.host : String(host), port: port)
        self = parts[0] == "MOVED" ? .moved(slot: slot, node: node) : .ask(slot: slot, node: node)
    }

    public var description: String {
        switch self {
        case .moved(let slot, let node): return "MOVED \(slot) \(node)"
        case .ask(let slot, let node): return "ASK \(slot) \(node)"
        }
    }

    public var node: RedisNodeAddress {
        switch self {
        case .moved(_, let node), .ask(_, let node): return node
        }
    }
}

/// One Redis node, as a redirection names it.
public struct RedisNodeAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// What `RedisCommandClient` needs to talk to a Redis Cluster as well as to one server: a connection per node,
/// a slot → node map learnt from `MOVED` replies, and the redirection loop. Against a single server nothing is
/// ever redirected and this is one connection to the URL's node.
///
/// Routing: a batch goes to the node that owns the slot of its first keyed command (the URL's node until a
/// `MOVED` taught otherwise; DanmuCluster's batches are single-slot, all keys `{danmu}:…`). Replies that are
/// redirections are re-sent, in their order, to the node named: `MOVED` also records slot → node, `ASK` sends
/// `ASKING` first and records nothing. At most `maxRedirects` rounds per batch, then an error naming the last
/// redirection (a cluster that keeps redirecting is resharding or misconfigured; looping would hide it).
///
/// A batch that holds `MULTI` is redirected whole: Redis answers `EXECABORT` to a transaction whose queued
/// commands were redirected, so nothing of it was applied and re-sending all of it is what is right.
///
/// Not thread-safe: the owning client keeps it under its lock for a whole round trip.
struct RedisClusterRouting: Sendable {
    static let maxRedirects = 5

    let seed: RedisURL
    private var slots: [Int: RedisNodeAddress] = [:]
    private var connections: [RedisNodeAddress: RedisConnection] = [:]
    private var lastNode: RedisNodeAddress

    init(seed: RedisURL) {
        self.seed = seed
        lastNode = RedisNodeAddress(host: seed.host, port: seed.port)
    }

    /// The node `slot` was last `MOVED` to, if any (for tests and diagnostics).
    func node(forSlot slot: Int) -> RedisNodeAddress? { slots[slot] }

    /// Sends `commands` pipelined, follows redirections, returns one reply per command in order.
    mutating func run(_ commands: [[[UInt8]]], reactor: Reactor, timeout: Duration) throws(PipelineError)
        -> [RESPValue]
    {
        let first = commands.lazy.compactMap { RedisKeySlot.routingKey(of: $0) }.first
        // An unknown slot goes to the node used last: any master answers, with a MOVED if need be.
        let target = first.flatMap { slots[RedisKeySlot.slot(of: $0)] } ?? lastNode
        var replies = try send(Array(commands.indices), of: commands, to: target, asking: .no, reactor, timeout)
        let transaction = commands.contains {
            String(decoding: $0.first ?? [], as: UTF8.self).uppercased() == "MULTI"
        }
        for _ in 0..<Self.maxRedirects {
            let redirected = redirections(in: replies, from: target)
            guard let firstRedirection = redirected.first?.1 else { return replies }
            if transaction {
                learn(firstRedirection)
                // Redis keeps a client's ASKING flag until EXEC inside MULTI: one ASKING ahead covers it all.
                let asking: Asking = if case .ask = firstRedirection { .once } else { .no }
                replies = try send(
                    Array(commands.indices), of: commands, to: firstRedirection.node, asking: asking, reactor, timeout)
                continue
            }
            // Group by destination (ASK and MOVED apart, ASK needs ASKING), keeping the batch's order in each.
            var groups: [(node: RedisNodeAddress, asking: Asking, indices: [Int])] = []
            for (index, redirection) in redirected {
                learn(redirection)
                let ask: Asking = if case .ask = redirection { .each } else { .no }
                if let g = groups.firstIndex(where: { $0.node == redirection.node && $0.asking == ask }) {
                    groups[g].indices.append(index)
                } else {
                    groups.append((redirection.node, ask, [index]))
                }
            }
            for group in groups {
                let answers = try send(
                    group.indices, of: commands, to: group.node, asking: group.asking, reactor, timeout)
                for (index, answer) in zip(group.indices, answers) { replies[index] = answer }
            }
        }
        if let (_, last) = redirections(in: replies, from: target).first {
            throw .unavailable(
                "Redis Cluster redirected a command more than \(Self.maxRedirects) times (last: \(last)); "
                    + "is the cluster resharding or its slot map inconsistent?")
        }
        return replies
    }

    /// Closes every connection (the next call opens what it needs).
    mutating func close() {
        for connection in connections.values { connection.close() }
        connections = [:]
    }

    private var seedNode: RedisNodeAddress { RedisNodeAddress(host: seed.host, port: seed.port) }

    private func redirections(in replies: [RESPValue], from node: RedisNodeAddress) -> [(Int, RedisRedirection)] {
        replies.indices.compactMap { index in RedisRedirection(replies[index], answeredBy: node).map { (index, $0) } }
    }

    private mutating func learn(_ redirection: RedisRedirection) {
        // ASK is about one key during a migration: the slot still belongs to the old node.
        if case .moved(let slot, let node) = redirection { slots[slot] = node }
    }

    /// Where `send` puts `ASKING`: nowhere, ahead of each command (its flag lasts one command), or once ahead of
    /// a transaction.
    enum Asking {
        case no, each, once
    }

    /// Sends the commands at `indices` to `node`, with `ASKING` as `asking` says, and returns their replies.
    private mutating func send(
        _ indices: [Int], of commands: [[[UInt8]]], to node: RedisNodeAddress, asking: Asking, _ reactor: Reactor,
        _ timeout: Duration
    ) throws(PipelineError) -> [RESPValue] {
        var bytes: [UInt8] = []
        for index in indices {
            if asking == .each || (asking == .once && index == indices.first) {
                RESPCommand.append(["ASKING"], to: &bytes)
            }
            RESPCommand.append(commands[index], to: &bytes)
        }
        let count = indices.count * (asking == .each ? 2 : 1) + (asking == .once ? 1 : 0)
        let connection = try connection(to: node, reactor)
        let replies: [RESPValue]
        do throws(PipelineError) {
            replies = try connection.send(bytes, replies: count, timeout: timeout)
        } catch {
            // A reply that never came leaves the connection's FIFO out of step: never reuse it. Forget the slots
            // routed to this node too: after a failover the URL's node redirects us to the new master.
            connection.close()
            connections[node] = nil
            slots = slots.filter { $0.value != node }
            lastNode = seedNode
            throw error
        }
        // An ASK target is only right for the keys that already migrated; the next unrouted batch would be
        // MOVED straight back.
        switch asking {
        case .no:
            lastNode = node
            return replies
        case .once: return Array(replies.dropFirst())
        // Every other reply is ASKING's +OK; keep the commands' own.
        case .each: return stride(from: 1, to: replies.count, by: 2).map { replies[$0] }
        }
    }

    private mutating func connection(to node: RedisNodeAddress, _ reactor: Reactor) throws(PipelineError)
        -> RedisConnection
    {
        if let existing = connections[node], !existing.isClosed { return existing }
        // The reactor connects to IPv4 addresses only; a node announced by name (cluster-announce-hostname)
        // cannot be reached from here.
        guard (try? SocketAddress(ipv4: node.host, port: node.port)) != nil else {
            throw .unavailable("Redis Cluster redirected to \(node), which is not an IPv4 address")
        }
        var url = seed
        url.host = node.host
        url.port = node.port
        let fresh = RedisConnection(url: url, reactor: reactor)
        do throws(PipelineError) {
            try fresh.open()
        } catch {
            slots = slots.filter { $0.value != node }
            lastNode = seedNode
            throw error
        }
        connections[node] = fresh
        return fresh
    }
}
