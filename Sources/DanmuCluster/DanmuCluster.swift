/// DanmuCluster: several danmu processes share one room list through Redis (node heartbeats, per-room
/// leases renewed by a compare-and-extend script, fair share, takeover). Issue 14 builds it here.
public enum DanmuCluster {
    /// The layout version of the keys in Redis; a node refuses a cluster written by another version.
    public static let keyLayoutVersion = 1
}
