import DanmuPipeline
import EventLoop

/// The coordinator thread's loop of a `ClusterNode`. Confined to that thread: `roomSet`, `version`, `nodes`
/// and `period` are its own; the lease table is shared with the gate through `node.shared`.
final class ClusterCoordinator {
    private let node: ClusterNode
    private let keys: ClusterKeys
    private let id: String
    private let ttlMilliseconds: String
    private let period: UInt64
    private let overlap: UInt64
    private var roomSet: Set<Int64> = []
    private var version: String?
    private var nodes: [String] = []
    private var periods = 0
    /// Rooms whose takeover gap was already logged.
    private var loggedGaps: Set<Int64> = []
    /// Never set: a timed sleep for the hand-over loop.
    private let sleeper = ConditionLock(false)

    init(node: ClusterNode) {
        self.node = node
        keys = node.configuration.keys
        id = node.configuration.nodeID
        let ttl = node.configuration.leaseTTL.nanoseconds
        ttlMilliseconds = String(ttl / 1_000_000)
        period = ttl / 3
        overlap = node.configuration.handoverOverlap.nanoseconds
    }

    func run() {
        var nextPeriod = SystemClock.monotonicNanoseconds()
        while true {
            let earliest = node.shared.withLock { $0.table.earliestExpiry } ?? .max
            if node.waitForStop(until: min(nextPeriod, earliest)) { break }
            let now = SystemClock.monotonicNanoseconds()
            stopExpired(now: now)
            guard now >= nextPeriod else { continue }
            nextPeriod = now + period
            do throws(ClusterError) {
                try onePeriod()
            } catch {
                record(error)
                // Try again after a quarter period, not a whole one: the leases' validity counts from the last
                // renewal *sent*, so when Redis comes back (a restart, a Redis Cluster failover: the replica is
                // promoted after the node timeout) the renewal must follow soon or the leases run out anyway.
                nextPeriod = now + period / 4
            }
            periods += 1
            logNewGaps()
        }
        handOverAndLeave()
    }

    // MARK: One period

    private func onePeriod() throws(ClusterError) {
        let held = node.shared.withLock { s in s.table.rooms(in: .owned) + s.table.rooms(in: .handingOff) }
        var commands: [[String]] = [
            ClusterScript.heartbeat.command(keys: [keys.node(id), keys.nodes], arguments: [id, ttlMilliseconds]),
            ["GET", keys.roomsVersion],
        ]
        if !held.isEmpty {
            commands.append(ClusterScript.renew.command(keys: held.map(keys.lease), arguments: [id, ttlMilliseconds]))
        }
        let sentAt = SystemClock.monotonicNanoseconds()
        let replies = try run(commands, scripts: [.heartbeat, nil, .renew])
        if case .array(let members?) = replies[0] { nodes = members.compactMap(Self.text) }
        if !held.isEmpty { applyRenewal(held, replies[2], sentAt: sentAt) }
        let newVersion = Self.text(replies[1]) ?? "0"
        if newVersion != version || periods % 10 == 0 {
            try readRoomSet()
            version = newVersion
        }
        try dropRoomsNotInSet()
        // The first period only registers: nodes started together see each other before they split the rooms.
        guard periods > 0 else { return }
        try rebalance()
    }

    private func applyRenewal(_ held: [Int64], _ reply: RESPValue, sentAt: UInt64) {
        guard case .array(let values?) = reply, values.count == held.count else {
            record(.redis("the renew script answered \(reply)"))
            return
        }
        let results = zip(held, values).map { room, value in
            (room: room, result: { if case .integer(let n) = value { return n } else { return 0 } }())
        }
        let now = SystemClock.monotonicNanoseconds()
        let lost = node.shared.withLock { s in
            let lost = s.table.renewed(results, sentAt: sentAt, now: now, overlap: overlap)
            s.lost(lost)
            s.status.leasesLost += lost.count
            s.status.held = s.table.count
            return lost
        }
        if !lost.isEmpty {
            node.host.stopRooms(lost)
            node.log("lost the lease of \(lost.count) room(s) to another node, stopped them: \(Self.sample(lost))")
        }
    }

    private func readRoomSet() throws(ClusterError) {
        let reply = try run([["SMEMBERS", keys.rooms]], scripts: [nil])[0]
        guard case .array(let members?) = reply else { throw .redis("SMEMBERS \(keys.rooms) answered \(reply)") }
        var rooms = Set<Int64>()
        for member in members {
            guard let text = Self.text(member), let room = Int64(text), room > 0 else {
                record(.badRoom(Self.text(member) ?? "\(member)"))
                continue
            }
            rooms.insert(room)
        }
        roomSet = rooms
        node.shared.withLock { $0.status.roomsInSet = rooms.count }
    }

    private func dropRoomsNotInSet() throws(ClusterError) {
        let gone = node.shared.withLock { s in s.table.entries.keys.filter { !roomSet.contains($0) }.sorted() }
        guard !gone.isEmpty else { return }
        node.shared.withLock { $0.table.remove(gone) }
        node.host.stopRooms(gone)
        _ = try run([ClusterScript.release.command(keys: gone.map(keys.lease), arguments: [id])], scripts: [.release])
    }

    /// Claims up to the share, or hands the excess over.
    private func rebalance() throws(ClusterError) {
        let target = FairShare.target(
            rooms: roomSet.count, nodes: nodes, node: id, maximum: node.configuration.maximumRooms)
        let (owned, handingOff, busy) = node.shared.withLock { s in
            s.status.target = target
            s.status.liveNodes = Set(nodes + [id]).count
            return (
                s.table.rooms(in: .owned), s.table.rooms(in: .handingOff),
                Set(s.table.entries.keys.filter { s.table.state(of: $0) != .handingOff })
            )
        }
        if owned.count > target {
            let excess = Array(owned.suffix(owned.count - target))
            try handOver(excess)
        } else if owned.count < target {
            // Our own hand-overs first (taking one back is free), then the rest in an order of our own so that
            // nodes claiming at the same moment mostly ask for different keys.
            let salt = UInt64(truncatingIfNeeded: id.hashValue)
            let others = roomSet.subtracting(busy).subtracting(handingOff).sorted { a, b in
                (UInt64(bitPattern: a) &* 0x9E37_79B9_7F4A_7C15 ^ salt)
                    < (UInt64(bitPattern: b) &* 0x9E37_79B9_7F4A_7C15 ^ salt)
            }
            let candidates = handingOff + others
            guard !candidates.isEmpty else { return }
            let want = target - owned.count
            let sentAt = SystemClock.monotonicNanoseconds()
            let reply = try run(
                [
                    ClusterScript.claim.command(
                        keys: candidates.map(keys.lease), arguments: [id, ttlMilliseconds, String(want)])
                ], scripts: [.claim])[0]
            guard case .array(let indexes?) = reply else { throw .redis("the claim script answered \(reply)") }
            var claimed: [Int64] = []
            var free: [Int64] = []
            for value in indexes {
                guard case .integer(let signed) = value, signed != 0, Int(signed.magnitude) <= candidates.count
                else { continue }
                let room = candidates[Int(signed.magnitude) - 1]
                claimed.append(room)
                if signed > 0 && !handingOff.contains(room) { free.append(room) }
            }
            let fresh = claimed.filter { !handingOff.contains($0) }
            // A free key of a room with a mark (someone claimed it before) is a takeover after a lost lease (or
            // a restart of the whole cluster): the dedupe stage reports the gap at the room's first event.
            let marks = free.isEmpty ? [:] : readMarks(free)
            // Taken before startRooms, so every event of the new sessions is read after it. (A wall clock that
            // steps back by more than a connect could drop the first events of a room; NTP slews, it rarely steps.)
            let started = SystemClock.realtimeNanoseconds()
            node.shared.withLock { s in
                for room in fresh {
                    s.tenureStart[room] = started
                    if let lost = s.lostTenure[room], lost.end == .max { s.lostTenure[room] = (lost.start, started) }
                }
                for (room, mark) in marks { s.pendingGaps[room] = mark }
                s.table.claimed(claimed, sentAt: sentAt)
                s.status.claims += fresh.count
                s.status.held = s.table.count
            }
            if !fresh.isEmpty { node.host.startRooms(fresh) }
        }
    }

    /// The dedupe's last-sequence marks of `rooms` (one script call, which also sets the absent ones to 0);
    /// rooms without one are left out. A failure only costs the gap report.
    private func readMarks(_ rooms: [Int64]) -> [Int64: Int64] {
        let command = ClusterScript.marks.command(keys: rooms.map(keys.mark), arguments: [String(600_000)])
        guard let reply = try? run([command], scripts: [.marks])[0],
            case .array(let values?) = reply, values.count == rooms.count
        else { return [:] }
        var marks: [Int64: Int64] = [:]
        for (room, value) in zip(rooms, values) {
            if let text = Self.text(value), let mark = Int64(text) { marks[room] = mark }
        }
        return marks
    }

    /// Marks `rooms` `handoff:<id>`; they stay ours (collected, renewed) until another node claims them.
    private func handOver(_ rooms: [Int64]) throws(ClusterError) {
        guard !rooms.isEmpty else { return }
        let sentAt = SystemClock.monotonicNanoseconds()
        let reply = try run(
            [ClusterScript.handoff.command(keys: rooms.map(keys.lease), arguments: [id, ttlMilliseconds])],
            scripts: [.handoff])[0]
        guard case .array(let values?) = reply, values.count == rooms.count else {
            throw .redis("the hand-over script answered \(reply)")
        }
        let marked = zip(rooms, values).compactMap { room, value in value == .integer(1) ? room : nil }
        node.shared.withLock { s in
            s.table.markedHandoff(marked, sentAt: sentAt)
            s.status.handovers += marked.count
        }
    }

    /// Stops every room whose validity ended: hand-overs whose overlap is done, and leases not confirmed in
    /// time (Redis unreachable, or this process was paused) — the gate already drops their events.
    private func stopExpired(now: UInt64) {
        let expired = node.shared.withLock { s in
            let expired = s.table.expire(now: now)
            s.lost(expired.lost)
            s.status.leasesLost += expired.lost.count
            s.status.held = s.table.count
            return expired
        }
        let rooms = expired.lost + expired.left
        guard !rooms.isEmpty else { return }
        node.host.stopRooms(rooms)
        if !expired.lost.isEmpty {
            node.log(
                "\(expired.lost.count) lease(s) not confirmed in time (Redis unreachable or this process paused), "
                    + "stopped: \(Self.sample(expired.lost))")
        }
    }

    /// One line per period for the takeover gaps found since the last: which rooms, how many messages missed.
    private func logNewGaps() {
        let fresh = node.shared.withLock { s in s.gaps.values.filter { !loggedGaps.contains($0.room) } }
        guard !fresh.isEmpty else { return }
        for gap in fresh { loggedGaps.insert(gap.room) }
        let missing = fresh.filter { $0.missed > 0 }.sorted { $0.room < $1.room }
        guard !missing.isEmpty else { return }
        let total = missing.reduce(0) { $0 + $1.missed }
        let sample = missing.prefix(8).map { "\($0.room) (\($0.missed))" }.joined(separator: ", ")
        node.log(
            "took over \(missing.count) room(s) from a lost lease with a gap: \(total) message(s) missed: \(sample)"
                + (missing.count > 8 ? ", …" : ""))
    }

    // MARK: Stop

    /// Leaves the node set (the others' shares grow at once), hands every room over, waits for takers plus the
    /// overlap, then releases and stops what is left.
    private func handOverAndLeave() {
        // Alone (by the last heartbeat's view), nobody can take the rooms: release at once instead of waiting.
        let alone = Set(nodes).subtracting([id]).isEmpty
        let deadline =
            SystemClock.monotonicNanoseconds() + (alone ? 0 : node.configuration.handoverTimeout.nanoseconds)
        do throws(ClusterError) {
            _ = try run([["ZREM", keys.nodes, id], ["DEL", keys.node(id)]], scripts: [nil, nil])
            try handOver(node.shared.withLock { $0.table.rooms(in: .owned) })
        } catch {
            record(error)
        }
        while SystemClock.monotonicNanoseconds() < deadline {
            let now = SystemClock.monotonicNanoseconds()
            stopExpired(now: now)
            let held = node.shared.withLock { $0.table.rooms(in: .handingOff) + $0.table.rooms(in: .owned) }
            let leaving = node.shared.withLock { $0.table.rooms(in: .leaving) }
            if held.isEmpty && leaving.isEmpty { break }
            if !held.isEmpty {
                let sentAt = SystemClock.monotonicNanoseconds()
                do throws(ClusterError) {
                    let reply = try run(
                        [ClusterScript.renew.command(keys: held.map(keys.lease), arguments: [id, ttlMilliseconds])],
                        scripts: [.renew])[0]
                    applyRenewal(held, reply, sentAt: sentAt)
                } catch {
                    record(error)
                }
            }
            // Short waits: a taker is noticed within 200 ms, so its overlap starts early.
            let wake = min(now + 200_000_000, node.shared.withLock { $0.table.earliestExpiry } ?? .max)
            waitPlain(until: wake)
        }
        let rest = node.shared.withLock { s in
            let rest = s.table.entries.keys.sorted()
            s.table.remove(rest)
            s.status.held = 0
            return rest
        }
        if !rest.isEmpty {
            node.host.stopRooms(rest)
            _ = try? run(
                [ClusterScript.release.command(keys: rest.map(keys.lease), arguments: [id])], scripts: [.release])
        }
    }

    /// Sleeps until `deadline` (the stop flag is already set, so waiting on it would return at once).
    private func waitPlain(until deadline: UInt64) {
        sleeper.withLock(waitingUntil: { $0 }, deadline: deadline) { _, _ in }
    }

    // MARK: Redis

    /// Runs pipelined commands; a script Redis forgot (NOSCRIPT) is sent again with EVAL.
    private func run(_ commands: [[String]], scripts: [ClusterScript?]) throws(ClusterError) -> [RESPValue] {
        var replies: [RESPValue]
        do throws(PipelineError) {
            replies = try node.client.run(commands)
            for (i, reply) in replies.enumerated() where ClusterScript.isNoScript(reply) {
                guard i < scripts.count, let script = scripts[i] else { continue }
                var again = commands[i]
                again[0] = "EVAL"
                again[1] = script.source
                replies[i] = try node.client.run(again)
            }
        } catch {
            throw .redis(error.description)
        }
        for reply in replies {
            if case .error(let message) = reply { throw .redis(message) }
        }
        return replies
    }

    private func record(_ error: ClusterError) {
        let first = node.shared.withLock { s in
            s.status.redisErrors += 1
            defer { s.status.lastError = error.description }
            return s.status.lastError != error.description
        }
        if first { node.log(error.description) }
    }

    static func text(_ value: RESPValue) -> String? {
        switch value {
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        case .simpleString(let text): return text
        case .integer(let n): return String(n)
        default: return nil
        }
    }

    static func sample(_ rooms: [Int64]) -> String {
        rooms.prefix(8).map(String.init).joined(separator: ", ") + (rooms.count > 8 ? ", …" : "")
    }
}
