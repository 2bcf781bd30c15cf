import DanmuClient

/// The `--events` filter: validated against the kinds of the JSON Lines schema (`EventKind`).
enum EventKinds {
    /// Stable lowercase kind names (the `kind` field of every JSONL line).
    static var known: [String] { EventKind.allCases.map(\.rawValue) }

    /// Parses "danmaku,gift" into a set, rejecting unknown names with the list of valid ones.
    static func parse(_ text: String) throws(UsageError) -> Set<EventKind> {
        let names = text.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw UsageError("--events needs at least one kind, got \(quoted(text))") }
        var kinds = Set<EventKind>()
        for name in names {
            guard let kind = EventKind(rawValue: name) else {
                throw UsageError("--events: unknown kind \(quoted(name)); kinds are: \(known.joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        return kinds
    }
}
