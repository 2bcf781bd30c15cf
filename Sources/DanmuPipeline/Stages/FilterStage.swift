import DanmuClient

/// Keeps the events that match every set criterion; an unset criterion matches everything.
///
/// `textContains` is a plain substring test (no regex: nothing for a hostile pattern to blow up) on a danmaku's
/// text or a super chat's message; any one of the substrings matches. An event without a text (a gift, a
/// heartbeat) fails a text criterion, as an event without a uid fails a uid criterion.
public struct FilterStage: PipelineStage {
    public var kinds: Set<EventKind>?
    public var rooms: Set<Int64>?
    public var textContains: [String]
    public var uids: Set<Int64>?

    public init(
        kinds: Set<EventKind>? = nil, rooms: Set<Int64>? = nil, textContains: [String] = [], uids: Set<Int64>? = nil
    ) {
        self.kinds = kinds
        self.rooms = rooms
        self.textContains = textContains
        self.uids = uids
    }

    public var name: String { "filter" }

    public func matches(_ event: RoomEvent) -> Bool {
        if let kinds, !kinds.contains(event.event.kind) { return false }
        if let rooms, !rooms.contains(event.room) { return false }
        if let uids {
            guard let uid = EventFields.uid(of: event.event), uids.contains(uid) else { return false }
        }
        if !textContains.isEmpty {
            guard let text = EventFields.text(of: event.event) else { return false }
            if !textContains.contains(where: { text.contains($0) }) { return false }
        }
        return true
    }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        batch.filter(matches)
    }
}
