/// How many rooms a node should hold: the room count divided by the live nodes, the remainder going one each
/// to the first nodes in id order (so the shares add up to the room count and every node computes the same
/// split from the same view), capped by the node's own maximum.
public enum FairShare {
    /// The target of `node` among `nodes` (live node ids; `node` is counted even when missing from them, as a
    /// node that just registered may not see itself yet). `maximum` nil: no cap.
    public static func target(rooms: Int, nodes: [String], node: String, maximum: Int? = nil) -> Int {
        var live = Set(nodes)
        live.insert(node)
        let ordered = live.sorted()
        let rank = ordered.firstIndex(of: node)!
        let base = rooms / ordered.count
        let share = base + (rank < rooms % ordered.count ? 1 : 0)
        guard let maximum else { return share }
        return min(share, max(0, maximum))
    }
}
