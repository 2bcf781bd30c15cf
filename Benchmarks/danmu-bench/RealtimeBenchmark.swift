import DanmuClient
import DanmuRealtime
import EventLoop
import Glibc
import TestSupport

// `realtime` (issue 13's targets): this process runs a DanmuCollector + EventHub + RealtimeServer on loopback, the
// simulator runs in one child process (one room), N SSE subscribers in another (`serve-subscribers`), so the
// readings of this process are the server's alone.
//   latency:    N subscribers at R msg/s: p50/p99/max from the simulator's send stamp to the subscriber's read,
//               once as is and once with one extra subscriber that never reads;
//   memory:     RSS and heap (mallinfo2) of this process before and after N idle subscribers connected, over N;
//   throughput: deliveries (event × subscriber) per second with the simulator flooding one room, beside
//               Scripts/sse-baseline.py (asyncio, generating same-size events itself) read by the same subscribers.

/// The scenario's sizes; `quick` keeps the whole scenario within a few seconds (`.ci/run`).
struct RealtimeBenchmarkOptions {
    var subscribers = 10_000
    var rate = 100.0
    var warmupSeconds = 1.0
    var seconds = 10.0
    var floodSubscribers = 1_000
    var floodMessages = 1_000
    /// A flood round ends when the subscribers read nothing for this long.
    var quietSeconds = 1.0
    var runs = 3
    /// The latency rounds (with memory) and the flood rounds; `realtime-latency` / `realtime-flood` pick one.
    var latency = true
    var flood = true

    static func defaults(quick: Bool) -> Self {
        guard quick else { return Self() }
        return Self(
            subscribers: 200, rate: 100, warmupSeconds: 0.2, seconds: 0.5, floodSubscribers: 100, floodMessages: 300,
            quietSeconds: 0.3, runs: 1)
    }
}

/// The hub's `flushInterval` for every round: `DANMU_REALTIME_FLUSH_MS` (milliseconds; 0 = flush at every drain, the
/// behaviour before coalescing) when set, else the hub's default. Read once.
let realtimeFlushInterval: Duration? = {
    guard let text = getenv("DANMU_REALTIME_FLUSH_MS").map({ String(cString: $0) }), let ms = Double(text), ms >= 0
    else { return nil }
    return .microseconds(Int64(ms * 1_000))
}()

/// The server side of one round: collector → hub → RealtimeServer on one reactor, fed by a simulator process.
private final class RealtimeServerRun {
    let simulator: SimulatorProcess
    let reactor: Reactor
    let hub: EventHub
    let collector: DanmuCollector
    let server: RealtimeServer
    let port: UInt16

    init(simulator options: SimulatorProcess.Options) throws {
        simulator = try SimulatorProcess(options)
        reactor = try Reactor()
        try reactor.start()
        var hubConfiguration = EventHub.Configuration()
        if let flush = realtimeFlushInterval { hubConfiguration.flushInterval = flush }
        hub = EventHub(reactor: reactor, configuration: hubConfiguration)
        var configuration = DanmuCollector.Configuration(server: .init(host: "127.0.0.1", port: simulator.port))
        configuration.protover = 3
        collector = try DanmuCollector(configuration: configuration)
        collector.setHandler(hub)
        try collector.start()
        var limits = HTTPServer.Limits()
        // Every subscriber comes from 127.0.0.1; the default 1,024 per address would refuse most of them.
        limits.maxConnectionsPerAddress = limits.maxConnections
        server = RealtimeServer(
            reactor: reactor, collector: collector, hub: hub,
            configuration: .init(address: .loopback(port: 0), limits: limits))
        port = try server.start().port
    }

    func stop() {
        server.close()
        collector.shutdown()
        hub.close()
        reactor.shutdown()
        _ = simulator.stop()
    }
}

/// Starts the subscriber process against `port` and waits for its `connected N` line; nil (and a progress line)
/// when it did not report one.
private func startSubscribers(
    port: UInt16, count: Int, stalled: Bool, warmup: Double, seconds: Double, quiet: Double
) -> (child: ChildProcess, connected: Int)? {
    let arguments = [
        "serve-subscribers", "--port", String(port), "--room", "1", "--count", String(count),
        "--stalled", stalled ? "yes" : "no", "--warmup", String(warmup), "--seconds", String(seconds),
        "--quiet", String(quiet),
    ]
    guard let child = try? ChildProcess(selfWith: arguments) else {
        progress("realtime: could not start the subscriber process")
        return nil
    }
    guard let line = child.readLine(), line.hasPrefix("connected "), let connected = Int(line.dropFirst(10)) else {
        progress("realtime: the subscriber process did not report its connections")
        child.terminate()
        return nil
    }
    if connected < count { progress("realtime: only \(connected) of \(count) subscribers connected") }
    return (child, connected)
}

/// Reads the subscriber process's `result` line and reaps it.
private func readResult(_ child: ChildProcess) -> SubscriberResult? {
    var result: SubscriberResult?
    while result == nil, let line = child.readLine() { result = SubscriberResult(line: line) }
    child.wait()
    if result == nil { progress("realtime: the subscriber process ended without a result") }
    return result
}

/// One latency round; with `measureMemory`, also the server's memory per idle subscriber.
private struct LatencyRound {
    var result: SubscriberResult
    var connected: Int
    var rssPerSubscriber = Double.nan
    var heapPerSubscriber = Double.nan
    var serverCPUPerMillion = Double.nan
    /// This process's CPU seconds over the wall seconds of the round.
    var serverCPUShare = Double.nan
    var skipped: UInt64 = 0
    /// Events published per flush (each flush is at most one write per subscriber).
    var eventsPerFlush = Double.nan
    /// The server's CPU per write: CPU ÷ (deliveries ÷ events per flush), in µs; one room, so every subscriber
    /// gets every flush in one write.
    var serverCPUPerWrite = Double.nan
    /// The kernel's part of the server's CPU in the round (system ÷ user + system).
    var serverKernelShare = Double.nan
}

private func runLatencyRound(_ options: RealtimeBenchmarkOptions, stalled: Bool) -> LatencyRound? {
    do {
        let run = try RealtimeServerRun(
            simulator: .init(rooms: 1, rate: options.rate, compression: "brotli", batch: 1, danmakuOnly: true))
        defer { run.stop() }
        sleepSeconds(0.2)
        let heapBefore = ProcessMetrics.heapBytes()
        let rssBefore = ProcessMetrics.residentBytes()
        guard
            let (child, connected) = startSubscribers(
                port: run.port, count: options.subscribers, stalled: stalled, warmup: options.warmupSeconds,
                seconds: options.seconds, quiet: 3)
        else { return nil }
        sleepSeconds(0.2)  // the server reads the last requests after the child saw their heads
        let open = run.hub.statistics.subscribers
        let heapPerSubscriber = Double(ProcessMetrics.heapBytes() - heapBefore) / Double(max(1, open))
        let rssPerSubscriber = Double(ProcessMetrics.residentBytes() - rssBefore) / Double(max(1, open))
        let cpuBefore = ProcessMetrics.cpuSeconds()
        let systemBefore = ProcessMetrics.systemCPUSeconds()
        let deliveriesBefore = run.hub.statistics.deliveries
        let flushesBefore = run.hub.statistics.flushes
        let publishedBefore = run.hub.statistics.eventsPublished
        run.collector.add(room: 1)
        let started = ProcessMetrics.monotonicNanoseconds()
        guard var result = readResult(child) else { return nil }
        result.wallSeconds = Double(ProcessMetrics.monotonicNanoseconds() - started) / 1e9
        let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
        let system = ProcessMetrics.systemCPUSeconds() - systemBefore
        let statistics = run.hub.statistics
        let deliveries = statistics.deliveries - deliveriesBefore
        progress(
            "realtime: \(open) subscribers open at the hub, \(deliveries) deliveries, \(statistics.eventsSkipped) skipped, "
                + "\(statistics.gapsReported) gaps, \(statistics.subscribersTimedOut) timed out")
        let eventsPerFlush =
            Double(statistics.eventsPublished - publishedBefore) / Double(max(1, statistics.flushes - flushesBefore))
        return LatencyRound(
            result: result, connected: connected, rssPerSubscriber: rssPerSubscriber,
            heapPerSubscriber: heapPerSubscriber,
            serverCPUPerMillion: cpu / Double(max(1, deliveries)) * 1e6,
            serverCPUShare: cpu / max(1e-3, result.wallSeconds), skipped: statistics.eventsSkipped,
            eventsPerFlush: eventsPerFlush,
            serverCPUPerWrite: cpu / max(1, Double(deliveries) / max(1, eventsPerFlush)) * 1e6,
            serverKernelShare: system / max(1e-9, cpu))
    } catch {
        progress("realtime: latency round failed: \(error)")
        return nil
    }
}

/// A flood round against our server: deliveries per second as the subscribers read them.
private func runOurFloodRound(_ options: RealtimeBenchmarkOptions) -> SubscriberResult? {
    do {
        let run = try RealtimeServerRun(
            simulator: .init(
                rooms: 1, rate: 0, compression: "none", limitPerRoom: options.floodMessages, batch: 10,
                danmakuOnly: true))
        defer { run.stop() }
        guard
            let (child, _) = startSubscribers(
                port: run.port, count: options.floodSubscribers, stalled: false, warmup: 0, seconds: 120,
                quiet: options.quietSeconds)
        else { return nil }
        sleepSeconds(0.2)
        run.collector.add(room: 1)
        return readResult(child)
    } catch {
        progress("realtime: flood round failed: \(error)")
        return nil
    }
}

/// A flood round against Scripts/sse-baseline.py, events of `size` bytes.
private func runBaselineFloodRound(_ options: RealtimeBenchmarkOptions, size: Int) -> SubscriberResult? {
    let script = TestFiles.repositoryRoot + "/Scripts/sse-baseline.py"
    let arguments = [
        "exec-python", script, "--subscribers", String(options.floodSubscribers), "--count",
        String(options.floodMessages), "--size", String(size), "--rate", "0",
    ]
    guard let baseline = try? ChildProcess(selfWith: arguments),
        let line = baseline.readLine(), line.hasPrefix("port "), let port = UInt16(line.dropFirst(5))
    else {
        progress("realtime: the Python baseline did not start (python3 and \(script) needed)")
        return nil
    }
    defer { baseline.terminate() }
    guard
        let (child, _) = startSubscribers(
            port: port, count: options.floodSubscribers, stalled: false, warmup: 0, seconds: 120,
            quiet: options.quietSeconds)
    else { return nil }
    return readResult(child)
}

/// The child side of the baseline: `exec-python SCRIPT ARGS…` replaces this process with `python3 SCRIPT ARGS…`
/// (ChildProcess starts only this executable; its stdout pipe carries over the exec).
func execPython(_ arguments: [String]) -> Never {
    let argv = (["python3"] + arguments).map { strdup($0) } + [nil]
    execvp("python3", argv)
    progress("exec-python: cannot run python3: errno \(errno)")
    exit(1)
}

func runRealtimeBenchmark(_ options: RealtimeBenchmarkOptions) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    let n = options.subscribers
    for stalled in [false, true] where options.latency {
        var rounds: [LatencyRound] = []
        for run in 1...options.runs {
            progress(
                "realtime: \(n) SSE subscribers\(stalled ? " + 1 stalled" : "") × \(format(options.rate)) msg/s, "
                    + "\(format(options.seconds)) s, run \(run)/\(options.runs)")
            if let round = runLatencyRound(options, stalled: stalled) { rounds.append(round) }
        }
        guard !rounds.isEmpty else {
            figures.append(BenchmarkFigure(name: "realtime.latency", value: .nan, unit: "ms", note: "failed"))
            continue
        }
        let label = stalled ? "realtime.stalled" : "realtime"
        let events = rounds.map(\.result.events).sorted()[rounds.count / 2]
        let note = "median of \(rounds.count); \(rounds.map(\.connected).min() ?? 0) connected, ~\(events) deliveries"
        figures += [
            BenchmarkFigure(
                name: "\(label).p50", value: median(rounds.map(\.result.p50)), unit: "ms", note: note),
            BenchmarkFigure(
                name: "\(label).p99", value: median(rounds.map(\.result.p99)), unit: "ms",
                note: stalled ? "the others, beside one subscriber that never reads" : "target ≤ 50"),
            BenchmarkFigure(name: "\(label).max", value: median(rounds.map(\.result.max)), unit: "ms"),
            BenchmarkFigure(
                name: "\(label).server_cpu_per_million", value: median(rounds.map(\.serverCPUPerMillion)),
                unit: "CPU s", note: "this process (collector + hub + server) per 10^6 deliveries"),
            BenchmarkFigure(
                name: "\(label).server_cpu_share", value: median(rounds.map(\.serverCPUShare)), unit: "cores",
                note: "this process: CPU s over the round's wall time"),
            BenchmarkFigure(
                name: "\(label).events_per_flush", value: median(rounds.map(\.eventsPerFlush)), unit: "events",
                note:
                    "flush interval \(realtimeFlushInterval.map { "\($0)" } ?? "default"); one write per subscriber each"
            ),
            BenchmarkFigure(
                name: "\(label).server_cpu_per_write", value: median(rounds.map(\.serverCPUPerWrite)), unit: "µs",
                note: "this process's CPU ÷ writes (deliveries ÷ events per flush)"),
            BenchmarkFigure(
                name: "\(label).server_kernel_share", value: median(rounds.map(\.serverKernelShare)), unit: "×",
                note: "system ÷ total CPU of this process (loopback: the receiver's TCP work runs here too)"),
            BenchmarkFigure(
                name: "\(label).subscriber_cpu_share",
                value: median(rounds.map(\.result.cpuShare)), unit: "cores",
                note: "subscriber process while recording (one thread: ≈ 1 = it is the bottleneck)"),
        ]
        if stalled {
            figures.append(
                BenchmarkFigure(
                    name: "realtime.stalled.skipped", value: Double(rounds.map(\.skipped).max() ?? 0),
                    unit: "events", note: "skipped for the stalled one (skipToNewest)"))
        } else {
            figures += [
                BenchmarkFigure(
                    name: "realtime.rss_per_subscriber", value: median(rounds.map(\.rssPerSubscriber)), unit: "B",
                    note: "\(n) idle SSE subscribers; target ≤ 4096"),
                BenchmarkFigure(
                    name: "realtime.heap_per_subscriber", value: median(rounds.map(\.heapPerSubscriber)), unit: "B",
                    note: "mallinfo2 delta"),
            ]
        }
    }
    if options.flood { figures += runRealtimeThroughput(options) }
    return figures
}

private func runRealtimeThroughput(_ options: RealtimeBenchmarkOptions) -> [BenchmarkFigure] {
    let expected = options.floodSubscribers * options.floodMessages
    var ours: [SubscriberResult] = []
    var baseline: [SubscriberResult] = []
    for run in 1...options.runs {
        progress(
            "realtime: flood, \(options.floodSubscribers) subscribers × \(options.floodMessages) events, "
                + "run \(run)/\(options.runs)")
        if let result = runOurFloodRound(options) { ours.append(result) }
        // The baseline's events are the size of ours (bytes per event as the subscribers read them).
        let size = ours.last.map { $0.bytes / max(1, $0.events) } ?? 600
        if let result = runBaselineFloodRound(options, size: size) { baseline.append(result) }
    }
    func rate(_ r: SubscriberResult) -> Double { Double(r.events) / max(r.seconds, 1e-3) }
    var figures: [BenchmarkFigure] = []
    guard !ours.isEmpty else { return [BenchmarkFigure(name: "realtime.flood", value: .nan, unit: "", note: "failed")] }
    let received = ours.map(\.events).min() ?? 0
    figures.append(
        BenchmarkFigure(
            name: "realtime.flood.deliveries_per_s", value: median(ours.map(rate)), unit: "/s",
            note: "median of \(ours.count); \(received) events read, \(expected) sent"))
    guard !baseline.isEmpty else { return figures }
    figures += [
        BenchmarkFigure(
            name: "realtime.flood.python_deliveries_per_s", value: median(baseline.map(rate)), unit: "/s",
            note: "Scripts/sse-baseline.py; \(baseline.map(\.events).min() ?? 0) read, \(expected) sent"),
        BenchmarkFigure(
            name: "realtime.flood.ratio_vs_python", value: median(ours.map(rate)) / median(baseline.map(rate)),
            unit: "×", note: "event size \(ours[0].bytes / max(1, ours[0].events)) B"),
    ]
    return figures
}
