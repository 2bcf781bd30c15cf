import DanmuClient
import DanmuCodecs
import Synchronization

/// Formats events (JSON Lines via DanmuClient's `writeJSONLine`, or `EventText` lines) and hands them to the
/// sink. Called concurrently from the collector's workers (each room in order on its own queue), so all
/// state is atomic; formatting happens on the calling worker, in parallel, and only the finished bytes go
/// through the sink's lock.
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
        // A modern DANMU_MSG line is ~600 bytes: start big enough that the buffer never regrows.
        var writer = JSONWriter(capacity: 1024)
        append(room: room, receivedAt: receivedAt, event: event, to: &writer)
        writer.bytes.withUnsafeBytes { sink.append($0) }
        written.add(1, ordering: .relaxed)
    }

    /// Formats many events into one buffer and appends it with one lock (decode, benchmarks).
    func print(room: Int64, receivedAt: Int64, events: [DanmuEvent]) {
        seen.add(events.count, ordering: .relaxed)
        var writer = JSONWriter(capacity: 256 * events.count)
        var count = 0
        for event in events {
            if let kinds, !kinds.contains(event.kind) { continue }
            append(room: room, receivedAt: receivedAt, event: event, to: &writer)
            count += 1
        }
        writer.bytes.withUnsafeBytes { sink.append($0) }
        written.add(count, ordering: .relaxed)
    }

    private func append(room: Int64, receivedAt: Int64, event: DanmuEvent, to writer: inout JSONWriter) {
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
/// becomes one buffer and one sink append.
extension EventPrinter: DanmuHandler {
    func handle(batch: [RoomEvent]) {
        seen.add(batch.count, ordering: .relaxed)
        var writer = JSONWriter(capacity: 640 * batch.count)
        var count = 0
        for event in batch {
            if let kinds, !kinds.contains(event.event.kind) { continue }
            append(room: event.room, receivedAt: event.receivedAt, event: event.event, to: &writer)
            count += 1
        }
        guard count > 0 else { return }
        writer.bytes.withUnsafeBytes { sink.append($0) }
        written.add(count, ordering: .relaxed)
    }

    func handle(_ event: RoomEvent) {
        print(room: event.room, receivedAt: event.receivedAt, event: event.event)
    }
}
