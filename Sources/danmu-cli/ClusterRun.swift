import DanmuClient
import DanmuCluster
import DanmuPipeline
import EventLoop

/// `listen --cluster`: the node, its Redis connection on a reactor of its own, and the two stages that go first
/// in the pipeline (the lease gate, then the shared dedupe). The collector is attached once it exists (the
/// pipeline that holds the stages is made before it).
final class ClusterRun: Sendable {
    /// Forwards the node's room changes to the collector attached later.
    private final class DeferredHost: ClusterRoomHost {
        let collector = Lock<DanmuCollector?>(nil)
        func startRooms(_ rooms: [Int64]) { collector.withLock { $0 }?.startRooms(rooms) }
        func stopRooms(_ rooms: [Int64]) { collector.withLock { $0 }?.stopRooms(rooms) }
    }

    let options: ClusterOptions
    let node: ClusterNode
    let dedupe: SharedDedupeStage
    private let reactor: Reactor
    private let client: RedisCommandClient
    private let dedupeClient: RedisCommandClient
    private let host = DeferredHost()

    init(options: ClusterOptions) throws(UsageError) {
        self.options = options
        do throws(SystemError) {
            reactor = try Reactor()
            try reactor.start()
        } catch {
            throw UsageError("--cluster: cannot start the Redis reactor: \(error)")
        }
        client = RedisCommandClient(url: options.url, reactor: reactor)
        // A connection of its own: the workers' dedupe round trips must never delay a lease renewal.
        dedupeClient = RedisCommandClient(url: options.url, reactor: reactor)
        var configuration = ClusterNode.Configuration(leaseTTL: .milliseconds(Int64(options.leaseTTL * 1000)))
        configuration.maximumRooms = options.maximumRooms
        configuration.handoverOverlap = .milliseconds(Int64(min(2, options.leaseTTL / 3) * 1000))
        do throws(ClusterError) {
            node = try ClusterNode(configuration: configuration, client: client, host: host) { line in
                StandardError.print("danmu-cli listen: cluster: \(line)")
            }
        } catch {
            reactor.shutdown()
            throw UsageError("--cluster: \(error.description)")
        }
        dedupe = SharedDedupeStage(client: dedupeClient, node: node)
        options.fence.attach(node)
    }

    var stages: [any PipelineStage] { [node.gate, dedupe] }

    /// Checks that Redis answers, then starts the node on `collector`. nil, or why it cannot start.
    func start(_ collector: DanmuCollector) -> String? {
        do throws(PipelineError) {
            let pong = try client.run(["PING"])
            if case .error(let message) = pong { return "Redis at \(options.url.host):\(options.url.port): \(message)" }
        } catch {
            return "cannot reach Redis at \(options.url.host):\(options.url.port): \(error.description)"
        }
        host.collector.withLock { $0 = collector }
        do throws(ClusterError) {
            try node.start()
        } catch {
            return error.description
        }
        StandardError.print("danmu-cli listen: cluster: node \(node.configuration.nodeID) joined")
        return nil
    }

    /// Graceful: hands every room over (collecting until the takers started them), then releases the rest.
    /// The dedupe connection stays open: the frames already read still go through the pipeline after this, and
    /// closed here it failed them open, so the old owner wrote them beside the new one (a duplicate in the stream
    /// that ClusterFailoverTests' SIGTERM test caught in CI). `close()` ends it once the pipeline has drained.
    func stop() {
        node.stop()
        client.close()
    }

    /// After the collector and the pipeline have drained: the dedupe connection and the reactor.
    func close() {
        dedupeClient.close()
        reactor.shutdown()
    }

    /// One JSON object for the summary.
    var summaryJSON: String {
        let status = node.status
        var json = SummaryJSON()
        json.add("node", status.nodeID)
        json.add("live_nodes", status.liveNodes)
        json.add("rooms_in_set", status.roomsInSet)
        json.add("claims", status.claims)
        json.add("handovers", status.handovers)
        json.add("leases_lost", status.leasesLost)
        json.add("gate_dropped", node.gate.droppedEvents)
        json.add("shared_duplicates", dedupe.duplicates)
        json.add("dedupe_unchecked", dedupe.unchecked)
        json.add("redis_errors", status.redisErrors)
        // Counted, not hidden: what the stream misses of the rooms this node took over from a lost lease, and
        // what this node's sink fence dropped of the leases it lost itself.
        let gaps = node.gaps.filter { $0.missed > 0 }
        json.add("gap_rooms", gaps.count)
        json.add("gap_missed", Int(gaps.reduce(0) { $0 + $1.missed }))
        json.add("gaps", raw: Self.roomCounts(gaps.map { ($0.room, Int($0.missed)) }))
        let fenced = node.fencedRecords.sorted { $0.key < $1.key }
        json.add("fenced", fenced.reduce(0) { $0 + $1.value })
        json.add("fenced_rooms", raw: Self.roomCounts(fenced.map { ($0.key, $0.value) }))
        return json.text
    }

    /// `{"<room>":count,…}`.
    static func roomCounts(_ pairs: [(Int64, Int)]) -> String {
        "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
