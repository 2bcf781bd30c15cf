import DanmuClient

/// One step of a `Pipeline`: takes the events of one read of one room, in order, and returns what goes on.
///
/// Threading: `process(_:)` runs on the room's worker, so a room's batches come in order and never two at
/// once; different rooms call it in parallel. A stage with state keeps it per room behind its own lock.
public protocol PipelineStage: Sendable {
    /// A short name for statistics and the CLI's `--summary` (`filter`, `anonymize`, …).
    var name: String { get }
    /// The events that go on, in order. May drop, rewrite or (rarely) add events; never reorders a room.
    func process(_ batch: [RoomEvent]) -> [RoomEvent]
}
