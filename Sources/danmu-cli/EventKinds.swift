/// The `--events` filter: validated against the event kinds the JSON Lines schema uses.
enum EventKinds {
    /// Stable lowercase kind names (the `kind` field of every JSONL line).
    static let known: [String] = [
        "danmaku", "gift", "combo", "super_chat", "super_chat_delete", "guard_buy", "user_toast", "interact",
        "like_click", "like_update", "watched_change", "online_rank_count", "live", "preparing", "room_change",
        "warning", "login_notice", "popularity", "auth_reply", "unknown",
    ]

    /// Parses "danmaku,gift" into a set, rejecting unknown names with the list of valid ones.
    static func parse(_ text: String) throws(UsageError) -> Set<String> {
        let names = text.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw UsageError("--events needs at least one kind, got \(quoted(text))") }
        for name in names where !known.contains(name) {
            throw UsageError("--events: unknown kind \(quoted(name)); kinds are: \(known.joined(separator: ", "))")
        }
        return Set(names)
    }
}
