import DanmuClient
import DanmuPipeline
import DanmuRealtime
import EventLoop
import Glibc

/// Runs a collector for `listen` and `demo`: events → `EventPrinter` → `OutputSink`; a status line and
/// warnings on stderr; stops on SIGINT/SIGTERM, `--duration`, or an output failure; then the graceful
/// shutdown (stop reading, deliver everything received, flush) and the optional summary line.
struct ListenRunner {
    var options: ListenOptions
    /// The opened sinks and stages of --sink & co (nil without --sink).
    var pipeline: PipelineOptions.Opened? = nil
    /// Called once the collector is running (demo prints its banner here).
    var onStarted: () -> Void = {}

    /// What a run received, for callers that report on it (demo).
    struct Totals {
        var events = 0
        var danmaku = 0
    }

    func run() -> Int32 { runWithTotals().status }

    func runWithTotals() -> (status: Int32, totals: Totals) {
        let started = SystemClock.monotonicNanoseconds()
        let stop = StopLatch()
        SignalWatcher.start { signal in stop.trigger(signal.signalName) }
        let status = StatusLine(enabled: options.status && Posix.isTerminal(STDERR_FILENO))
        let warnings = WarningLog(status: status)

        let destination: OutputDestination
        if let path = options.outputPath {
            do throws(FileError) {
                destination = try OutputDestination(appendingTo: path, rotation: options.rotation)
            } catch {
                StandardError.print("danmu-cli listen: --output: \(error.description)")
                return (1, Totals())
            }
        } else {
            destination = OutputDestination(standardOutput: ())
        }
        // Group commit: a line is written as soon as the writer is idle, batches grow only while a write is in
        // flight (a terminal, a file and a pipe alike).
        let interactive = options.outputPath == nil && Posix.isTerminal(STDOUT_FILENO)
        let sharesTerminal = interactive && Posix.isTerminal(STDERR_FILENO)
        let aroundWrite: @Sendable (() -> Void) -> Void = { write in status.whileHidden(write) }
        let sink = OutputSink(
            destination: destination, reserve: interactive ? 4096 : 256 << 10,
            onFailure: { message in
                if !message.hasSuffix(Posix.describe(EPIPE)) { warnings.warn(cause: "output", message) }
                stop.trigger("output failed")
            },
            aroundWrite: sharesTerminal ? aroundWrite : nil)
        let printer = EventPrinter(format: options.format, kinds: options.kinds, sink: sink)
        // With --sink, events go to the sinks, and to the printer only when --output names a file too.
        let stages = pipeline.map {
            Pipeline(stages: $0.stages, sinks: $0.runners, next: options.outputPath != nil ? printer : nil)
        }
        // --cluster: its lease gate and shared dedupe go first; without --sink, the printer comes after them.
        let cluster: ClusterRun?
        do throws(UsageError) {
            cluster = try options.cluster.map(ClusterRun.init)
        } catch {
            StandardError.print("danmu-cli listen: \(error.message)")
            return (1, Totals())
        }
        let handler =
            cluster.map { cluster in
                Pipeline(
                    stages: cluster.stages + (stages?.stages ?? []), sinks: stages?.sinks ?? [],
                    next: stages == nil || options.outputPath != nil ? printer : nil)
            } ?? stages

        // --http: the realtime server's hub sees every event after the usual output (docs/http.md).
        var realtime: HTTPOptions.Realtime?
        if options.http.isActive {
            do throws(SystemError) {
                realtime = try HTTPOptions.Realtime()
            } catch {
                StandardError.print("danmu-cli listen: --http: \(error)")
                return (1, Totals())
            }
        }
        let collector: DanmuCollector
        let configuration = collectorConfiguration(warnings: warnings)
        do throws(CollectorError) {
            collector = try DanmuCollector(configuration: configuration)
            let output: any DanmuHandler = handler ?? printer
            collector.setHandler(realtime.map { EventTee(output, $0.hub) } ?? output)
            try collector.start()
        } catch {
            sink.close()
            handler?.close()
            cluster?.stop()
            cluster?.close()
            pipeline?.reactor?.shutdown()
            realtime?.close()
            StandardError.print("danmu-cli listen: \(error.description)")
            return (1, Totals())
        }
        if let realtime {
            switch realtime.start(collector: collector, options: options.http, warnings: warnings, pipeline: handler) {
            case .success(let url): StandardError.print("danmu-cli listen: serving \(url)")
            case .failure(let error):
                StandardError.print("danmu-cli listen: --http: \(error.description)")
                collector.shutdown()
                cluster?.stop()
                handler?.close()
                cluster?.close()
                pipeline?.reactor?.shutdown()
                realtime.close()
                sink.close()
                return (1, Totals())
            }
        }
        collector.add(rooms: options.rooms)
        if let cluster, let failure = cluster.start(collector) {
            StandardError.print("danmu-cli listen: --cluster: \(failure)")
            collector.shutdown()
            cluster.stop()
            handler?.close()
            cluster.close()
            pipeline?.reactor?.shutdown()
            realtime?.close()
            sink.close()
            return (1, Totals())
        }
        let discovery = RoomDiscovery.start(options.discovery, resolver: configuration.resolver, collector: collector)
        let reloader = RoomsFileReloader.start(options, collector: collector)
        onStarted()

        let deadline = options.duration.map { started + UInt64($0 * 1e9) }
        while true {
            var next = SystemClock.monotonicNanoseconds() + 1_000_000_000
            if let deadline { next = min(next, deadline) }
            if stop.wait(untilMonotonic: next) != nil { break }
            if let deadline, SystemClock.monotonicNanoseconds() >= deadline { break }
            let statistics = collector.statistics()
            report(statistics, warnings: warnings)
            status.update(snapshot(statistics))
        }
        discovery?.stop()
        reloader?.stop()
        status.clear()
        // A cluster node hands its rooms over first, collecting until the takers started them.
        cluster?.stop()
        realtime?.close()
        // Graceful: sockets stop being read, every frame already received is decoded and handed to the
        // printer, then the sink writes what is pending.
        collector.shutdown()
        // Then every pipeline sink drains (retrying a failing one up to its close timeout, then spooling).
        handler?.close()
        // The cluster's dedupe connection only now: the drained frames went through the shared dedupe.
        cluster?.close()
        pipeline?.reactor?.shutdown()
        let written = sink.close()
        let statistics = collector.statistics()
        report(statistics, warnings: warnings)
        if options.summary {
            StandardError.print(
                summary(
                    statistics, printer: printer, sink: written, started: started, reason: stop.triggeredReason,
                    warnings: warnings.totalWarnings, pipeline: handler, cluster: cluster))
        }
        let totals = Totals(
            events: printer.eventsSeen, danmaku: statistics.rooms.reduce(0) { $0 + ($1.eventsByKind[.danmaku] ?? 0) })
        if let failure = written.failure, !failure.hasSuffix(Posix.describe(EPIPE)) { return (1, totals) }
        return (0, totals)
    }

    private func collectorConfiguration(warnings: WarningLog) -> DanmuCollector.Configuration {
        var configuration = DanmuCollector.Configuration(
            server: options.fixedServer, workers: options.workers)
        configuration.transport = options.transport
        configuration.tls.verification = options.verification
        configuration.webSocket.cookie = options.cookie
        if options.verification == .insecureNoVerification {
            warnings.warn(
                cause: "insecure",
                "WARNING: --insecure: the server's certificate is NOT checked; anyone on the path can read and "
                    + "alter the stream")
        }
        configuration.protover = options.protover
        configuration.bindAddresses = options.bindAddresses
        configuration.credentials = .init(uid: options.uid ?? 0, buvid: options.buvid ?? "", token: options.token ?? "")
        configuration.onSlowHandler = { room, seconds in
            warnings.warn(
                cause: "slow-handler-\(room)",
                "room \(room): output has held a worker for \(Int(seconds * 1000)) ms; with every worker held, "
                    + "all rooms wait (reported once per room)")
        }
        if options.server == nil {
            configuration.resolver = LiveSiteResolver(options: options, warnings: warnings)
        }
        return configuration
    }

    /// Prints each new cause of failure once ("room 7: connect failed: Connection refused").
    private func report(_ statistics: CollectorStatistics, warnings: WarningLog) {
        for room in statistics.rooms {
            // A message whose JSON was malformed is skipped by the decoder (the rest of its batch is delivered);
            // say so once, so a loss is never silent.
            if room.malformedMessages > 0 {
                warnings.warn(
                    cause: "malformed",
                    "room \(room.room): skipped a message with malformed JSON "
                        + "(counted in the summary's malformed_messages; reported once)")
            }
            guard let failure = room.lastError else { continue }
            warnings.warn(
                cause: failure.description, "room \(room.room): \(failure.description) (reported once per cause)")
        }
    }

    private func snapshot(_ statistics: CollectorStatistics) -> StatusSnapshot {
        StatusSnapshot(
            rooms: statistics.rooms.count, live: statistics.roomsLive, connecting: statistics.roomsConnecting,
            backingOff: statistics.roomsBackingOff, events: statistics.events, reconnects: statistics.reconnects,
            errors: statistics.errors)
    }

    private func summary(
        _ statistics: CollectorStatistics, printer: EventPrinter, sink: OutputSink.Statistics, started: UInt64,
        reason: String?, warnings: Int, pipeline: Pipeline?, cluster: ClusterRun? = nil
    ) -> String {
        var json = SummaryJSON()
        json.add("rooms", statistics.rooms.count)
        json.add("connected", statistics.rooms.count { $0.connections > 0 })
        json.add("events", pipeline?.counts.received ?? printer.eventsSeen)
        json.add("written", printer.eventsWritten)
        json.add("reconnects", statistics.reconnects)
        json.add("errors", statistics.errors)
        json.add("protocol_errors", statistics.protocolErrors)
        json.add("malformed_messages", statistics.malformedMessages)
        json.add("transport_errors", statistics.transportErrors)
        json.add("tls_resumptions", statistics.tlsResumptions)
        json.add(
            "transports",
            object: statistics.roomsByTransport.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { ($0.key.rawValue, $0.value) })
        json.add("warnings", warnings)
        json.add("bytes_received", statistics.bytesReceived)
        json.add("bytes_written", sink.bytesWritten)
        json.add("write_batches", sink.writeBatches)
        if !sink.rotatedFiles.isEmpty { json.add("rotated_files", sink.rotatedFiles.count) }
        json.add("seconds", Double(SystemClock.monotonicNanoseconds() - started) / 1e9)
        json.add("stopped_by", reason ?? "duration")
        var byKind: [String: Int] = [:]
        for room in statistics.rooms {
            for (kind, count) in room.eventsByKind { byKind[kind.rawValue, default: 0] += count }
        }
        json.add("by_kind", object: byKind.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        if let cluster { json.add("cluster", raw: cluster.summaryJSON) }
        if let pipeline {
            json.add("pipeline_passed", pipeline.counts.passed)
            var sinks: [String] = []
            for runner in pipeline.sinks {
                let s = runner.statistics
                var sinkJSON = SummaryJSON()
                sinkJSON.add("name", runner.name)
                sinkJSON.add("written", s.written)
                sinkJSON.add("batches", s.batches)
                sinkJSON.add("failures", s.failures)
                sinkJSON.add("spooled", s.spooled)
                sinkJSON.add("replayed", s.replayed)
                sinkJSON.add("dropped", s.dropped)
                sinkJSON.add("torn_records_skipped", s.tornRecordsSkipped)
                sinkJSON.add("backlog_bytes", s.backlogBytes)
                if let error = s.lastError { sinkJSON.add("last_error", error) }
                sinks.append(sinkJSON.text)
            }
            json.add("sinks", raw: "[" + sinks.joined(separator: ",") + "]")
        }
        return json.text
    }
}
