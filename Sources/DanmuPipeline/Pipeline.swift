import DanmuClient
import DanmuCodecs
import EventLoop

/// A `DanmuHandler` that runs each batch through its stages, in order, on the room's worker, encodes what is
/// left once (`SinkRecord`: the JSON Lines text and the typed columns) and hands it to every sink's runner.
///
/// ```swift
/// let sqlite = try SinkRunner(sink: SQLiteSink(path: "danmu.db"))
/// let pipeline = Pipeline(stages: [FilterStage(kinds: [.danmaku]), DedupeStage()], sinks: [sqlite])
/// collector.setHandler(pipeline)
/// …
/// pipeline.close()   // after the collector stopped: drains every sink
/// ```
public final class Pipeline: DanmuHandler {
    public let stages: [any PipelineStage]
    public let sinks: [SinkRunner]
    /// Called with the events that passed the stages (e.g. the CLI's printer); optional.
    private let next: (any DanmuHandler)?
    private let counters = Lock<(received: Int, passed: Int)>((0, 0))

    public init(stages: [any PipelineStage], sinks: [SinkRunner], next: (any DanmuHandler)? = nil) {
        self.stages = stages
        self.sinks = sinks
        self.next = next
    }

    /// Events the pipeline received, and events that passed every stage.
    public var counts: (received: Int, passed: Int) { counters.withLock { $0 } }

    public func handle(batch: [RoomEvent]) {
        let passed = process(batch)
        counters.withLock {
            $0.received += batch.count
            $0.passed += passed.count
        }
        guard !passed.isEmpty else { return }
        if !sinks.isEmpty {
            var writer = JSONWriter()
            let records = passed.map { SinkRecord($0, writer: &writer) }
            for sink in sinks { sink.submit(records) }
        }
        next?.handle(batch: passed)
    }

    /// The stages alone: what would go to the sinks.
    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        var events = batch
        for stage in stages {
            events = stage.process(events)
            if events.isEmpty { break }
        }
        return events
    }

    /// Closes every sink (each drains, retries up to its close timeout, spools what is left). Call after the
    /// collector has stopped, so no batch arrives meanwhile.
    public func close() {
        for sink in sinks { sink.close() }
    }
}
