import DanmuClient
import DanmuCodecs
import Synchronization

/// Formats events (JSON Lines via DanmuClient's `writeJSONLine`, or `EventText` lines) straight into the sink's
/// pending buffer. Called concurrently from the collector's workers (each room in order on its own queue), so all
/// state is atomic. A handler batch (one read of one room) is formatted in one go under one sink lock: no writer
/// or buffer of its own per event or per batch, no copy (issue 11 measured a 1 KiB writer and a lock per event).
final class EventPrinter: Sendable {
    let format: OutputFormat
    let kinds: Set<EventKind>?
    let sink: OutputSink
    private let seen = Atomic<Int>(0)
    private let written = Atomic<Int>(0)

    init(format: OutputFormat, kinds: Set<EventKind>?, sink: OutputSink) {
        self.format = format
        self.kinds = kinds
        self.sink = sink
    }

    /// Events handed to the printer (before the --events filter).
    var eventsSeen: Int { seen.load(ordering: .relaxed) }
    /// Lines handed to the sink (after the filter).
    var eventsWritten: Int { written.load(ordering: .relaxed) }

    /// Formats and appends one event. `receivedAt` is unix nanoseconds.
    func print(room: Int64, receivedAt: Int64, event: DanmuEvent) {
        seen.add(1, ordering: .relaxed)
        if let kinds, !kinds.contains(event.kind) { return }
        sink.append { pending in
            Self.formatting(into: &pending) { append(room: room, receivedAt: receivedAt, event: event, to: &$0) }
        }
        written.add(1, ordering: .relaxed)
    }

    /// Formats many events of one room with one sink lock (decode, benchmarks).
    func print(room: Int64, receivedAt: Int64, events: [DanmuEvent]) {
        seen.add(events.count, ordering: .relaxed)
        var count = 0
        sink.append { pending in
            Self.formatting(into: &pending) { writer in
                for event in events {
                    if let kinds, !kinds.contains(event.kind) { continue }
                    append(room: room, receivedAt: receivedAt, event: event, to: &writer)
                    count += 1
                }
            }
        }
        written.add(count, ordering: .relaxed)
    }

    /// Lends `pending` to a `JSONWriter` (moved in and back, not copied) for `body`.
    fileprivate static func formatting(into pending: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &pending)
        body(&writer)
        swap(&writer.bytes, &pending)
    }

    fileprivate func append(room: Int64, receivedAt: Int64, event: DanmuEvent, to writer: inout JSONWriter) {
        switch format {
        case .jsonl:
            writeJSONLine(room: room, receivedAt: receivedAt, event: event, into: &writer)
        case .text:
            writer.bytes.append(contentsOf: EventText.line(room: room, event: event).utf8)
            writer.bytes.append(UInt8(ascii: "\n"))
        }
    }
}

/// The collector calls this on its workers: one room's events in order, rooms in parallel; one batch (one read)
/// is formatted straight into the sink's buffer under one lock.
extension EventPrinter: DanmuHandler {
    func handle(batch: [RoomEvent]) {
        seen.add(batch.count, ordering: .relaxed)
        var count = 0
        if let kinds {
            count = batch.count { kinds.contains($0.event.kind) }
            guard count > 0 else { return }
        } else {
            guard !batch.isEmpty else { return }
            count = batch.count
        }
        sink.append { pending in
            Self.formatting(into: &pending) { writer in
                for event in batch {
                    if let kinds, !kinds.contains(event.event.kind) { continue }
                    append(room: event.room, receivedAt: event.receivedAt, event: event.event, to: &writer)
                }
            }
        }
        written.add(count, ordering: .relaxed)
    }

    func handle(_ event: RoomEvent) {
        print(room: event.room, receivedAt: event.receivedAt, event: event.event)
    }
}
