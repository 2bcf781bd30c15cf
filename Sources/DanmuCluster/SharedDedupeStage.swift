import DanmuClient
import DanmuPipeline
import EventLoop

/// Drops an event whose identity another node (or this one) already passed: one pipelined
/// `SET {danmu}:seen:<key> 1 NX PX ttl` per keyed event of the batch, one round trip per batch; the event goes
/// on only when its SET succeeded. This keeps the output stream free of the doubles two nodes produce while
/// they both hold a room during a hand-over.
///
/// Keys: `EventIdentity.key` (a danmaku's `id_str`, a super chat's id, …); kinds without one always pass.
///
/// When Redis does not answer, the batch passes unfiltered and `unchecked` counts it: a dedupe outage must not
/// lose messages (at-least-once then, never at-most-once). A node that passed an event and dies before its
/// sink wrote it loses that event: the mark is set, the other node drops its copy (see docs/cluster.md).
public final class SharedDedupeStage: PipelineStage {
    public let ttl: Duration
    private let client: RedisCommandClient
    private let keys: ClusterKeys
    private let counters = Lock<(duplicates: Int, unchecked: Int)>((0, 0))
    private let node: ClusterNode?

    /// `ttl`: how long a mark lives; longer than any hand-over overlap (default 10 minutes). With `node`, the
    /// stage also keeps the gap report after a takeover: in the same round trip it sets, per room of the batch
    /// that the node holds, `{danmu}:mark:<room>` to the highest sequence number of the batch, and at the first
    /// event of a room the node took over from a lost lease it records the messages missed in between
    /// (`ClusterNode.gaps`). Only events that number themselves take part: the simulator's danmaku
    /// (`id_str` "sim-<room>-<seq>-<ns>"); Bilibili's do not, so a real room gets no mark and no count.
    public init(
        client: RedisCommandClient, keys: ClusterKeys = try! ClusterKeys(), ttl: Duration = .seconds(600),
        node: ClusterNode? = nil
    ) {
        self.client = client
        self.keys = keys
        self.ttl = ttl
        self.node = node
    }

    /// The per-room sequence number of a dedupe key, when it has one ("d:sim-<room>-<seq>-<ns>").
    static func sequence(ofKey key: String) -> Int64? {
        guard key.hasPrefix("d:sim-") else { return nil }
        let parts = key.utf8.split(separator: UInt8(ascii: "-"))
        guard parts.count == 4 else { return nil }
        return Int64(String(decoding: parts[2], as: UTF8.self))
    }

    public var name: String { "shared-dedupe" }

    /// Events dropped as already seen.
    public var duplicates: Int { counters.withLock { $0.duplicates } }
    /// Events passed without a check because Redis did not answer.
    public var unchecked: Int { counters.withLock { $0.unchecked } }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        let identities = batch.map { EventIdentity.key(of: $0.event) }
        let milliseconds = String(ttl.nanoseconds / 1_000_000)
        var commands = identities.compactMap { key in
            key.map { ["SET", keys.seen($0), "1", "NX", "PX", milliseconds] }
        }
        guard !commands.isEmpty else { return batch }
        let checks = commands.count
        // Per room, the batch's highest sequence number (a batch is one read of one room, but stay general).
        var highest: [Int64: Int64] = [:]
        if node != nil {
            for (event, key) in zip(batch, identities) {
                guard let key, let seq = Self.sequence(ofKey: key) else { continue }
                highest[event.room] = max(highest[event.room] ?? .min, seq)
            }
            // Only rooms the node holds (not ones it is leaving: the new owner's marks are the current ones).
            let held = node!.shared.withLock { s in
                Set(highest.keys.filter { s.table.state(of: $0).map { $0 != .leaving } ?? false })
            }
            for (room, seq) in highest where held.contains(room) {
                commands.append(["SET", keys.mark(room), String(seq), "PX", milliseconds])
            }
        }
        let replies: [RESPValue]
        do throws(PipelineError) {
            replies = try client.run(commands)
        } catch {
            counters.withLock { $0.unchecked += checks }
            return batch
        }
        var kept: [RoomEvent] = []
        kept.reserveCapacity(batch.count)
        var next = 0
        var drops = 0
        for (event, key) in zip(batch, identities) {
            guard key != nil else {
                kept.append(event)
                continue
            }
            let reply = replies[next]
            next += 1
            switch reply {
            case .bulkString(nil): drops += 1  // NX refused: already written by someone
            default: kept.append(event)  // OK, or an error reply: pass (at-least-once)
            }
        }
        if drops > 0 { counters.withLock { $0.duplicates += drops } }
        if let node, !highest.isEmpty { recordGaps(kept, node: node) }
        return kept
    }

    /// The first kept event of a room waiting for its gap report closes it.
    private func recordGaps(_ kept: [RoomEvent], node: ClusterNode) {
        var first: [Int64: Int64] = [:]
        for event in kept where first[event.room] == nil {
            if let key = EventIdentity.key(of: event.event), let seq = Self.sequence(ofKey: key) {
                first[event.room] = seq
            }
        }
        guard !first.isEmpty else { return }
        node.shared.withLock { s in
            for (room, seq) in first {
                guard let last = s.pendingGaps.removeValue(forKey: room) else { continue }
                s.gaps[room] = ClusterNode.TakeoverGap(room: room, lastBefore: last, firstAfter: seq)
            }
        }
    }
}
