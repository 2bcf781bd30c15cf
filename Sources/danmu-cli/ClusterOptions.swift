import DanmuCluster
import DanmuPipeline

/// `--cluster redis://HOST[:PORT][/DB]`, `--node-max-rooms N`, `--lease-ttl SECONDS`: shared by `listen` (the
/// room list comes from Redis) and `rooms` (edits it).
struct ClusterOptions: Equatable {
    var url: RedisURL
    var maximumRooms: Int?
    var leaseTTL: Double = 10
    /// Put around every --sink (PipelineOptions.open) and bound to the node by ClusterRun: drops the records of
    /// a lease lost before the sink wrote them. Not part of equality (one per parse).
    let fence = LeaseFence()

    static func == (a: ClusterOptions, b: ClusterOptions) -> Bool {
        a.url == b.url && a.maximumRooms == b.maximumRooms && a.leaseTTL == b.leaseTTL
    }

    static let urlSpec = OptionSpec(
        name: "cluster", valueName: "redis://HOST[:PORT][/DB]",
        help: "share the room list with other nodes through this Redis (docs/cluster.md)")

    static let specs: [OptionSpec] = [
        urlSpec,
        OptionSpec(
            name: "node-max-rooms", valueName: "N",
            help: "with --cluster: never hold more than N rooms (default: no cap)"),
        OptionSpec(
            name: "lease-ttl", valueName: "SECONDS",
            help: "with --cluster: room lease TTL, renewed every third of it (default 10, at least 1)"),
    ]

    /// nil without --cluster; the two tuning options without it are an error.
    static func from(_ arguments: ParsedArguments) throws(UsageError) -> ClusterOptions? {
        guard let text = arguments.string("cluster") else {
            for name in ["node-max-rooms", "lease-ttl"] where arguments.has(name) {
                throw UsageError("--\(name) applies to --cluster only")
            }
            return nil
        }
        var options: ClusterOptions
        do throws(PipelineError) {
            options = ClusterOptions(url: try RedisURL(parsing: text))
        } catch {
            throw UsageError("--cluster: \(error.description)")
        }
        options.maximumRooms = try arguments.int("node-max-rooms", in: 1...1_000_000)
        if let ttl = try arguments.seconds("lease-ttl") {
            guard ttl >= 1, ttl <= 3600 else { throw UsageError("--lease-ttl must be 1–3600 seconds, got \(ttl)") }
            options.leaseTTL = ttl
        }
        return options
    }
}
