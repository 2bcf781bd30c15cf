import DanmuClient
import Glibc

/// A room's events the throughput handler counts (everything but connection control).
private func chatEvents(_ room: RoomStatistics) -> Int {
    room.events - (room.eventsByKind[.popularity] ?? 0) - (room.eventsByKind[.authReply] ?? 0)
}

/// Progress lines for a run that missed events: the collector's reconnects and errors, then every room that did
/// not receive its `limitPerRoom` events, next to what the simulator says it sent that room.
private func reportMissing(
    expected: Int, received: Int, limitPerRoom: Int, client: CollectorStatistics,
    server: [Int64: SimulatorProcess.RoomReport]
) {
    progress(
        "throughput: \(expected - received) of \(expected) events missing; collector: \(client.reconnects) reconnects, "
            + "\(client.errors) errors, \(client.protocolErrors) protocol errors, \(client.malformedMessages) malformed, "
            + "\(client.roomsLive) rooms live")
    let unfinished = client.rooms.filter { chatEvents($0) != limitPerRoom }.sorted { $0.room < $1.room }
    for room in unfinished.prefix(20) {
        let sent =
            server[room.room].map { "sent \($0.messagesSent) lastSeq \($0.lastSeq) auths \($0.authsOK)" }
            ?? "no simulator report"
        progress(
            "  room \(room.room): \(chatEvents(room)) events, phase \(room.phase), \(room.connections) connections, "
                + "\(room.reconnects) reconnects, \(room.errors) errors (\(room.protocolErrors) protocol), "
                + "last error \(room.lastError.map { "\($0)" } ?? "none"), \(room.malformedMessages) malformed, "
                + "\(room.readPauses) read pauses (paused now: \(room.isReadingPaused), \(room.queuedBytes) bytes queued), "
                + "\(room.bytesReceived) bytes; simulator: \(sent)")
    }
    if unfinished.count > 20 { progress("  … and \(unfinished.count - 20) more rooms not finished") }
}

/// `throughput`: 100 rooms flooding (the simulator writes as fast as the sockets drain, `limit` messages per room),
/// plain / zlib / brotli batches, every message fully decoded to a typed event and counted by the handler.
func runThroughputBenchmark(rooms: Int, limitPerRoom: Int, runs: Int, timeoutSeconds: Double) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    for compression in ["none", "zlib", "brotli"] {
        var rates: [Double] = []
        var cpuPerMillion: [Double] = []
        var lost = 0
        for run in 1...runs {
            progress("throughput: \(rooms) rooms × \(limitPerRoom) msgs, \(compression), run \(run)/\(runs)")
            do {
                let server = try SimulatorProcess(
                    .init(
                        rooms: rooms, rate: 0, compression: compression,
                        limitPerRoom: limitPerRoom, batch: 10))
                let tally = EventTally()
                let client = try ClientRun(port: server.port, rooms: rooms, tally: tally)
                let expected = rooms * limitPerRoom
                let cpuBefore = ProcessMetrics.cpuSeconds()
                client.collector.add(rooms: 1...Int64(rooms))
                let seconds = client.waitForMessages(expected, timeoutSeconds: timeoutSeconds)
                let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
                let received = tally.count
                let clientStatistics = client.collector.statistics()
                client.collector.shutdown()
                let serverResult = server.stop()
                if received != expected {
                    reportMissing(
                        expected: expected, received: received, limitPerRoom: limitPerRoom,
                        client: clientStatistics, server: serverResult.rooms)
                }
                lost += max(0, expected - received)
                rates.append(Double(received) / seconds)
                cpuPerMillion.append(cpu / Double(max(1, received)) * 1e6)
            } catch {
                progress("throughput run failed: \(error)")
            }
        }
        guard !rates.isEmpty else { continue }
        figures.append(
            BenchmarkFigure(
                name: "throughput.\(compression).events_per_s", value: median(rates), unit: "ev/s",
                note: "median of \(rates.count); \(lost == 0 ? "none missing" : "\(lost) missing")"))
        figures.append(
            BenchmarkFigure(
                name: "throughput.\(compression).cpu_per_million", value: median(cpuPerMillion),
                unit: "CPU s", note: "client process, incl. connect"))
    }
    return figures
}

/// `latency`: N rooms at R msg/s; p50/p99/p999 from the simulator's send time (CLOCK_MONOTONIC in id_str) to the
/// handler. The first second is dropped as warm-up. Then the same with `FloorClient` (read + decompress + find the
/// stamp, no decode) against a fresh simulator of the same options: the harness's own floor, and danmu ÷ floor.
func runLatencyBenchmark(rooms: Int, rate: Double, seconds: Double) -> [BenchmarkFigure] {
    progress("latency: \(rooms) rooms at \(rate) msg/s for \(seconds) s")
    let options = SimulatorProcess.Options(rooms: rooms, rate: rate, compression: "brotli", batch: 1)
    var figures: [BenchmarkFigure] = []
    var danmuP99 = Double.nan
    var stageFigures: [BenchmarkFigure] = []
    do {
        let server = try SimulatorProcess(options)
        let tally = EventTally(recordLatency: true)
        let breakdown = LatencyBreakdown()
        // DANMU_BENCH_WORKERS=N: the pool size to compare (default: the collector's, cores − 1).
        let workers = getenv("DANMU_BENCH_WORKERS").flatMap { Int(String(cString: $0)) }
        if let workers { progress("latency: \(workers) workers") }
        let client = try ClientRun(port: server.port, rooms: rooms, tally: tally, workers: workers) {
            $0.onBatchTimings = breakdown.observer
        }
        client.collector.add(rooms: 1...Int64(rooms))
        _ = client.waitUntilLive(rooms, timeoutSeconds: 60)
        sleepSeconds(1)
        _ = tally.takeLatencies()
        breakdown.startRecording()
        let threadsBefore = ThreadStats.read()
        let cpuBefore = ProcessMetrics.cpuSeconds()
        sleepSeconds(seconds)
        let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
        let threadsAfter = ThreadStats.read()
        let samples = tally.takeLatencies().map { Double($0) / 1e6 }.sorted()
        stageFigures = breakdown.figures()
        stageFigures += ThreadStats.figures(
            prefix: "latency.threads", threads: [("danmu-io", "io"), ("danmu-worker", "workers")],
            before: threadsBefore, after: threadsAfter, seconds: seconds, messages: samples.count)
        stageFigures.append(
            BenchmarkFigure(
                name: "latency.client_cpu_per_msg", value: cpu / Double(max(1, samples.count)) * 1e6, unit: "µs",
                note: "client process CPU over the measured seconds ÷ danmaku"))
        client.collector.shutdown()
        _ = server.stop()
        guard !samples.isEmpty else {
            return [BenchmarkFigure(name: "latency", value: .nan, unit: "ms", note: "no samples")]
        }
        let note = "\(samples.count) danmaku, \(rooms) rooms × \(format(rate))/s"
        danmuP99 = percentile(samples, 0.99)
        figures += [
            BenchmarkFigure(name: "latency.p50", value: percentile(samples, 0.50), unit: "ms", note: note),
            BenchmarkFigure(name: "latency.p99", value: danmuP99, unit: "ms"),
            BenchmarkFigure(name: "latency.p999", value: percentile(samples, 0.999), unit: "ms"),
        ]
        figures += stageFigures
    } catch {
        return [BenchmarkFigure(name: "latency", value: .nan, unit: "ms", note: "failed: \(error)")]
    }
    progress("latency: the floor client, same load")
    guard let server = try? SimulatorProcess(options) else { return figures }
    let floor = FloorClient(port: server.port, rooms: 1...Int64(rooms), protover: 3, recordLatency: true)
    _ = floor.waitUntilLive(timeoutSeconds: 60)
    sleepSeconds(1)
    _ = floor.takeLatencies()
    let floorBefore = ThreadStats.read()
    let floorCPUBefore = ProcessMetrics.cpuSeconds()
    sleepSeconds(seconds)
    let floorCPU = ProcessMetrics.cpuSeconds() - floorCPUBefore
    let floorAfter = ThreadStats.read()
    let samples = floor.takeLatencies().map { Double($0) / 1e6 }.sorted()
    floor.stop()
    _ = server.stop()
    guard !samples.isEmpty else { return figures }
    let floorP99 = percentile(samples, 0.99)
    figures += [
        BenchmarkFigure(
            name: "latency.floor.p50", value: percentile(samples, 0.50), unit: "ms",
            note: "FloorClient, \(samples.count) stamped messages, fresh simulator, same options"),
        BenchmarkFigure(name: "latency.floor.p99", value: floorP99, unit: "ms"),
        BenchmarkFigure(name: "latency.floor.p999", value: percentile(samples, 0.999), unit: "ms"),
        BenchmarkFigure(
            name: "latency.p99_ratio_vs_floor", value: danmuP99 / floorP99, unit: "×", note: "danmu ÷ floor, p99"),
        BenchmarkFigure(
            name: "latency.floor.client_cpu_per_msg", value: floorCPU / Double(samples.count) * 1e6, unit: "µs",
            note: "process CPU over the measured seconds ÷ messages"),
    ]
    figures += ThreadStats.figures(
        prefix: "latency.floor.threads", threads: [("danmu-floor", "floor")], before: floorBefore, after: floorAfter,
        seconds: seconds, messages: samples.count)
    return figures
}
