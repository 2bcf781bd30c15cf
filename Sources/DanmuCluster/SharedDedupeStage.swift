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

    /// `ttl`: how long a mark lives; longer than any hand-over overlap (default 10 minutes).
    public init(client: RedisCommandClient, keys: ClusterKeys = try! ClusterKeys(), ttl: Duration = .seconds(600)) {
        self.client = client
        self.keys = keys
        self.ttl = ttl
    }

    public var name: String { "shared-dedupe" }

    /// Events dropped as already seen.
    public var duplicates: Int { counters.withLock { $0.duplicates } }
    /// Events passed without a check because Redis did not answer.
    public var unchecked: Int { counters.withLock { $0.unchecked } }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        let identities = batch.map { EventIdentity.key(of: $0.event) }
        let milliseconds = String(ttl.nanoseconds / 1_000_000)
        let commands = identities.compactMap { key in
            key.map { ["SET", keys.seen($0), "1", "NX", "PX", milliseconds] }
        }
        guard !commands.isEmpty else { return batch }
        let replies: [RESPValue]
        do throws(PipelineError) {
            replies = try client.run(commands)
        } catch {
            counters.withLock { $0.unchecked += commands.count }
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
        return kept
    }
}
