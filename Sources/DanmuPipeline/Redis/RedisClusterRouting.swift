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
/// A node that stops answering (a master killed before its replica took over): its connection and the slots
/// learnt for it are forgotten, and the next call first asks the nodes the cluster named (`CLUSTER SLOTS`,
/// read once when the first connection opens: masters and replicas) which ones exist now, then sends to the
/// first that answers; it redirects to the slot's owner — the promoted replica once the failover is done, or
/// the dead master until then (that call fails too, and the next one asks again). Without that list a client
/// seeded with the master that died would only ever retry the dead address. Against a single server the first
/// `CLUSTER SLOTS` is answered with an error and is never sent again.
///
/// Not thread-safe: the owning client keeps it under its lock for a whole round trip.
struct RedisClusterRouting: Sendable {
    static let maxRedirects = 5

    private enum Topology {
        case unknown, single, cluster
    }

    let seed: RedisURL
    private var slots: [Int: RedisNodeAddress] = [:]
    private var connections: [RedisNodeAddress: RedisConnection] = [:]
    private var lastNode: RedisNodeAddress
    private var topology = Topology.unknown
    /// The seed, then every node `CLUSTER SLOTS` named: where to go when the node used stops answering.
    private var knownNodes: [RedisNodeAddress]
    /// Nodes that failed since the last refresh: asked last.
    private var failedNodes: Set<RedisNodeAddress> = []
    private var needsRefresh = false

    init(seed: RedisURL) {
        self.seed = seed
        lastNode = RedisNodeAddress(host: seed.host, port: seed.port)
        knownNodes = [lastNode]
    }

    /// Every node the cluster named so far, the seed first (for tests and diagnostics).
    var nodes: [RedisNodeAddress] { knownNodes }

    /// The node `slot` was last `MOVED` to, if any (for tests and diagnostics).
    func node(forSlot slot: Int) -> RedisNodeAddress? { slots[slot] }

    /// Sends `commands` pipelined, follows redirections, returns one reply per command in order.
    mutating func run(_ commands: [[[UInt8]]], reactor: Reactor, timeout: Duration) throws(PipelineError)
        -> [RESPValue]
    {
        if needsRefresh { refreshNodes(reactor, timeout) }
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
        let connection = try connection(to: node, reactor, timeout)
        let replies: [RESPValue]
        do throws(PipelineError) {
            replies = try connection.send(bytes, replies: count, timeout: timeout)
        } catch {
            // A reply that never came leaves the connection's FIFO out of step: never reuse it. Forget the slots
            // routed to this node too: after a failover any live node redirects us to the new master.
            connection.close()
            connections[node] = nil
            forget(node)
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

    private mutating func connection(to node: RedisNodeAddress, _ reactor: Reactor, _ timeout: Duration)
        throws(PipelineError) -> RedisConnection
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
            if topology == .unknown {
                // Once per client: which nodes exist, so that a dead seed can be routed around later.
                let reply = try fresh.send(Self.clusterSlots, replies: 1, timeout: timeout)
                if let named = Self.nodes(inClusterSlots: reply.first, answeredBy: node) {
                    topology = .cluster
                    learnNodes(named)
                } else {
                    topology = .single
                }
            }
        } catch {
            fresh.close()
            forget(node)
            throw error
        }
        connections[node] = fresh
        return fresh
    }

    // MARK: Nodes that stop answering

    private static let clusterSlots: [UInt8] = {
        var bytes: [UInt8] = []
        RESPCommand.append(["CLUSTER", "SLOTS"], to: &bytes)
        return bytes
    }()

    /// `node` stopped answering: forget it and its slots, and ask the others next time (on a cluster).
    private mutating func forget(_ node: RedisNodeAddress) {
        slots = slots.filter { $0.value != node }
        lastNode = seedNode
        failedNodes.insert(node)
        if topology == .cluster { needsRefresh = true }
    }

    private mutating func learnNodes(_ named: [RedisNodeAddress]) {
        for node in named where !knownNodes.contains(node) { knownNodes.append(node) }
    }

    /// Asks the known nodes, those that did not fail first, for `CLUSTER SLOTS`; the first that answers is where
    /// the next unrouted batch goes, and its list is added to the known nodes. None answering: the next call
    /// tries again.
    private mutating func refreshNodes(_ reactor: Reactor, _ timeout: Duration) {
        let ordered = knownNodes.filter { !failedNodes.contains($0) } + knownNodes.filter { failedNodes.contains($0) }
        for node in ordered {
            guard let connection = try? connection(to: node, reactor, timeout) else { continue }
            let reply: [RESPValue]
            do throws(PipelineError) {
                reply = try connection.send(Self.clusterSlots, replies: 1, timeout: timeout)
            } catch {
                connection.close()
                connections[node] = nil
                forget(node)
                continue
            }
            guard let named = Self.nodes(inClusterSlots: reply.first, answeredBy: node) else { continue }
            learnNodes(named)
            failedNodes = []
            needsRefresh = false
            lastNode = node
            return
        }
        needsRefresh = true
    }

    /// The masters' and replicas' addresses in a `CLUSTER SLOTS` reply (`[[start, end, [ip, port, id, …],
    /// replica…], …]`); nil when the reply is not one (an error: cluster support disabled). An empty or `?` ip
    /// means the answering node's host.
    static func nodes(inClusterSlots reply: RESPValue?, answeredBy current: RedisNodeAddress) -> [RedisNodeAddress]? {
        guard case .array(let ranges?) = reply else { return nil }
        var nodes: [RedisNodeAddress] = []
        for case .array(let range?) in ranges where range.count >= 3 {
            for case .array(let node?) in range.dropFirst(2) where node.count >= 2 {
                guard case .bulkString(let ip?) = node[0], case .integer(let port) = node[1],
                    let port16 = UInt16(exactly: port), port16 > 0
                else { continue }
                let host = String(decoding: ip, as: UTF8.self)
                let address = RedisNodeAddress(host: host.isEmpty || host == "?" ? current.host : host, port: port16)
                if !nodes.contains(address) { nodes.append(address) }
            }
        }
        return nodes
    }
}
