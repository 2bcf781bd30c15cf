import DanmuClient
import DanmuCodecs
import DanmuPipeline
import EventLoop
import Glibc

// `sinks`: rows/s into SQLite through SinkRunner + SQLiteSink (WAL, synchronous=NORMAL, a transaction per batch
// of 4,096) against Python's sqlite3 `executemany` of the same rows into the same schema, same pragmas and
// the same batch size, in the same run; XADD/s pipelined into a local redis-server through RedisSink against
// `redis-benchmark -P 512` of an XADD with the same fields and payload size. Medians of `runs` runs.

/// The rows: simulated danmaku in 100 rooms, encoded once (as the pipeline does on the workers).
private func sinkRows(_ count: Int) -> [SinkRecord] {
    var writer = JSONWriter()
    return (0..<count).map { i in
        var d = Danmaku()
        d.text = "弹幕 message number \(i) 哈哈哈"
        d.uid = Int64(10_000 + i % 5_000)
        d.uname = "user\(i % 5_000)"
        d.idStr = "sim-\(i % 100 + 1)-\(i / 100 + 1)-\(i)"
        d.sendTimeMs = 1_700_000_000_000 + Int64(i)
        d.userHash = "8d3a1f0c"
        let event = RoomEvent(
            room: Int64(i % 100 + 1), receivedAt: 1_700_000_000_000_000_000 + Int64(i) * 1000,
            event: .danmaku(d))
        return SinkRecord(event, writer: &writer)
    }
}

/// `/bin/sh -c command`, stdout + stderr captured.
func shell(_ command: String) -> (status: Int32, output: String) {
    let path = "/tmp/danmu-bench-sh-\(getpid()).out"
    defer { unlink(path) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let words: [String] = ["/bin/sh", "-c", command]
    let argv = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    guard posix_spawn(&child, "/bin/sh", &actions, nil, argv, environ) == 0 else { return (-1, "") }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    var out: [UInt8] = []
    let fd = open(path, O_RDONLY)
    if fd >= 0 {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        close(fd)
    }
    return ((status >> 8) & 0xff, String(decoding: out, as: UTF8.self))
}

func writeText(_ path: String, _ text: String) {
    _ = writeFile(path, Array(text.utf8))
}

func runSinksBenchmark(quick: Bool, runs: Int) -> [BenchmarkFigure] {
    let count = quick ? 50_000 : 400_000
    progress("sinks: \(count) rows")
    let rows = sinkRows(count)
    guard let dir = benchTemporaryDirectory() else { return [] }
    defer { _ = shell("rm -rf '\(dir)'") }
    var figures: [BenchmarkFigure] = []
    figures += runSQLiteThroughputBenchmark(rows: rows, runs: runs, dir: dir)
    let redis = RedisBenchServer(dir: dir)
    defer { redis?.stop() }
    if let redis {
        figures += runRedisSinkBenchmark(rows: Array(rows.prefix(quick ? 50_000 : 200_000)), runs: runs, redis: redis)
    }
    figures += runSinkLatencyBenchmark(
        rows: Array(rows.prefix(quick ? 10_000 : 50_000)), runs: runs, dir: dir, redis: redis)
    return figures
}

/// `sqlite` (opt-in): the SQLite half of `sinks` alone — throughput with its floor and Python baseline, then the
/// SQLite sink's added latency.
func runSQLiteBenchmark(quick: Bool, runs: Int) -> [BenchmarkFigure] {
    let count = quick ? 50_000 : 400_000
    progress("sqlite: \(count) rows")
    let rows = sinkRows(count)
    guard let dir = benchTemporaryDirectory() else { return [] }
    defer { _ = shell("rm -rf '\(dir)'") }
    return runSQLiteThroughputBenchmark(rows: rows, runs: runs, dir: dir)
        + runSinkLatencyBenchmark(
            rows: Array(rows.prefix(quick ? 10_000 : 50_000)), runs: runs, dir: dir, redis: nil, only: "sqlite")
}

private func benchTemporaryDirectory() -> String? {
    var template = Array("/tmp/danmu-bench-sinks-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { return nil }
    return String(cString: made)
}

/// A local redis-server for the scenario: its own port and directory, no persistence. nil (the Redis figures are
/// skipped, saying why) when it is not installed or did not start: a port picked without a check once hit another
/// server, and the Redis latency stage then retried forever against the wrong one.
private struct RedisBenchServer {
    let port: Int

    init?(dir: String) {
        guard shell("command -v redis-server").status == 0 else {
            progress("sinks: no redis-server (Scripts/ensure-test-deps.sh installs it); Redis figures skipped")
            return nil
        }
        port = Int(freePort())
        _ = shell(
            "redis-server --port \(port) --bind 127.0.0.1 --save '' --appendonly no --dir \(dir) --daemonize yes"
                + " --pidfile \(dir)/redis.pid --logfile \(dir)/redis.log")
        for _ in 0..<100 where shell("redis-cli -p \(port) ping").output.contains("PONG") == false {
            usleep(20_000)
        }
        // Ours only if it runs in our directory (another server may have taken the port since it was picked).
        guard shell("redis-cli -p \(port) config get dir").output.contains(dir) else {
            progress("sinks: redis-server did not start on port \(port) (see \(dir)/redis.log); Redis figures skipped")
            return nil
        }
    }

    func stop() { _ = shell("redis-cli -p \(port) shutdown nosave") }
}

/// Times, for every record, submit → the sink's `write` of its batch returned (committed / acknowledged), on the
/// writer thread. `receivedAt` carries the submit time (monotonic nanoseconds).
private final class LatencyProbe: Sink, @unchecked Sendable {
    let inner: any Sink
    // Writer thread only; read after `SinkRunner.close()` joined it.
    var latencies: [Double] = []
    /// How long each `write` took (ms): a stall inside one commit (a checkpoint) shows here as its own figure,
    /// apart from the queueing that many slow commits cause.
    var writes: [Double] = []

    init(_ inner: any Sink) { self.inner = inner }

    var name: String { inner.name }

    func write(_ batch: [SinkRecord]) throws(PipelineError) {
        let start = Int64(SystemClock.monotonicNanoseconds())
        try inner.write(batch)
        let now = Int64(SystemClock.monotonicNanoseconds())
        writes.append(Double(now - start) / 1e6)
        for record in batch { latencies.append(Double(now - record.receivedAt) / 1e6) }
    }

    func close() { inner.close() }
}

/// Added latency per sink at 10 k events/s: a producer submits 10 records every millisecond (absolute
/// deadlines) through a SinkRunner with the default configuration (group commit, no delay); p50 / p99 / max
/// of submit → acknowledged, per sink, median over runs.
private func runSinkLatencyBenchmark(
    rows: [SinkRecord], runs: Int, dir: String, redis: RedisBenchServer?, only: String? = nil
)
    -> [BenchmarkFigure]
{
    let reactor = try? Reactor()
    if let reactor { try? reactor.start() }
    defer { reactor?.shutdown() }
    var sinks: [(String, (Int) throws(PipelineError) -> any Sink)] = [
        ("jsonl", { run throws(PipelineError) in try JSONLinesSink(path: "\(dir)/latency-\(run).jsonl") }),
        ("sqlite", { run throws(PipelineError) in try SQLiteSink(path: "\(dir)/latency-\(run).db") }),
    ]
    if let redis, let reactor {
        sinks.append(
            (
                "redis",
                { run throws(PipelineError) in
                    let url = try RedisURL(parsing: "redis://127.0.0.1:\(redis.port)?stream=latency-\(run)&maxlen=0")
                    return RedisSink(url: url, reactor: reactor)
                }
            ))
    }
    var figures: [BenchmarkFigure] = []
    for (label, make) in sinks where only == nil || only == label {
        var p50: [Double] = []
        var p99: [Double] = []
        var worst: [Double] = []
        var writeP99: [Double] = []
        var writeWorst: [Double] = []
        for run in 0..<runs {
            guard let sink = try? make(run) else {
                progress("sinks: latency: cannot open the \(label) sink")
                break
            }
            let probe = LatencyProbe(sink)
            guard let runner = try? SinkRunner(sink: probe) else { break }
            var next = SystemClock.monotonicNanoseconds()
            var i = 0
            while i < rows.count {
                var deadline = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
                let now = Int64(SystemClock.monotonicNanoseconds())
                var slice = Array(rows[i..<min(i + 10, rows.count)])
                for index in slice.indices { slice[index].receivedAt = now }
                runner.submit(slice)
                i += 10
                next += 1_000_000
            }
            runner.close()
            let sorted = probe.latencies.sorted()
            guard sorted.count == rows.count else {
                progress("sinks: latency: \(label) acknowledged \(sorted.count) of \(rows.count)")
                break
            }
            p50.append(percentile(sorted, 0.50))
            p99.append(percentile(sorted, 0.99))
            worst.append(sorted.last!)
            let writes = probe.writes.sorted()
            writeP99.append(percentile(writes, 0.99))
            writeWorst.append(writes.last ?? 0)
        }
        guard !p99.isEmpty else { continue }
        let note = "submit → acknowledged at 10 k events/s, \(rows.count) events"
        figures.append(
            BenchmarkFigure(name: "\(label)_added_latency_p50_ms", value: median(p50), unit: "ms", note: note))
        figures.append(
            BenchmarkFigure(
                name: "\(label)_added_latency_p99_ms", value: median(p99), unit: "ms", note: note + "; target ≤ 2"))
        figures.append(
            BenchmarkFigure(name: "\(label)_added_latency_max_ms", value: median(worst), unit: "ms", note: note))
        let writeNote = "one write (a batch: transaction / MULTI…EXEC / write(2)) in the same runs"
        figures.append(
            BenchmarkFigure(name: "\(label)_write_p99_ms", value: median(writeP99), unit: "ms", note: writeNote))
        figures.append(
            BenchmarkFigure(name: "\(label)_write_max_ms", value: median(writeWorst), unit: "ms", note: writeNote))
    }
    return figures
}

/// redis-server's CPU seconds so far (INFO cpu: used_cpu_user + used_cpu_sys), for CPU per XADD.
private func redisServerCPUSeconds(port: Int) -> Double {
    shell("redis-cli -p \(port) info cpu").output.split(whereSeparator: \.isNewline).reduce(0) { sum, line in
        let parts = line.split(separator: ":")
        guard parts.count == 2, parts[0] == "used_cpu_user" || parts[0] == "used_cpu_sys" else { return sum }
        return sum + (Double(parts[1]) ?? 0)
    }
}

private func runRedisSinkBenchmark(rows: [SinkRecord], runs: Int, redis: RedisBenchServer) -> [BenchmarkFigure] {
    let port = redis.port
    guard let reactor = try? Reactor(), (try? reactor.start()) != nil else { return [] }
    defer { reactor.shutdown() }
    var ours: [Double] = []
    // CPU per XADD, µs: ours (the whole process: submitting thread, writer, IO thread) and redis-server's while it
    // served us; beside redis-benchmark's redis-server CPU, the figures that survive a loaded machine.
    var oursCPU: [Double] = []
    var serverCPU: [Double] = []
    for run in 0..<runs {
        _ = shell("redis-cli -p \(port) del bench-\(run)")
        guard let url = try? RedisURL(parsing: "redis://127.0.0.1:\(port)?stream=bench-\(run)&maxlen=0") else { break }
        var configuration = SinkConfiguration()
        configuration.maxBatch = 4096
        configuration.memoryBudgetBytes = 1 << 30
        guard let runner = try? SinkRunner(sink: RedisSink(url: url, reactor: reactor), configuration: configuration)
        else { break }
        let server = redisServerCPUSeconds(port: port)
        let cpu = ProcessMetrics.cpuSeconds()
        let start = SystemClock.monotonicNanoseconds()
        var i = 0
        while i < rows.count {
            runner.submit(Array(rows[i..<min(i + 20, rows.count)]))
            i += 20
        }
        runner.close()
        let seconds = Double(SystemClock.monotonicNanoseconds() - start) / 1e9
        oursCPU.append((ProcessMetrics.cpuSeconds() - cpu) * 1e6 / Double(rows.count))
        serverCPU.append((redisServerCPUSeconds(port: port) - server) * 1e6 / Double(rows.count))
        let length = shell("redis-cli -p \(port) xlen bench-\(run)").output
        guard runner.statistics.written == rows.count, Int(length.split(separator: "\n").first ?? "") == rows.count
        else {
            progress("sinks: redis wrote \(runner.statistics.written), XLEN \(length)")
            break
        }
        ours.append(Double(rows.count) / seconds)
    }
    guard !ours.isEmpty else { return [] }
    var figures = [
        BenchmarkFigure(
            name: "redis_xadd_per_second", value: median(ours), unit: "XADD/s",
            note: "RedisSink, one connection, MULTI/EXEC transactions ≤ 512 in batches ≤ 4096"),
        BenchmarkFigure(
            name: "redis_sink_cpu_us_per_xadd", value: median(oursCPU), unit: "µs",
            note: "our process's CPU (submit, writer, IO thread) per XADD, the same runs"),
        BenchmarkFigure(
            name: "redis_server_cpu_us_per_xadd", value: median(serverCPU), unit: "µs",
            note: "redis-server's CPU per XADD while RedisSink wrote (INFO cpu)"),
    ]
    guard shell("command -v redis-benchmark").status == 0 else { return figures }
    let payload = String(repeating: "x", count: rows.map(\.json.count).reduce(0, +) / rows.count)
    var reference: [Double] = []
    var referenceServerCPU: [Double] = []
    for _ in 0..<runs {
        let server = redisServerCPUSeconds(port: port)
        let result = shell(
            "redis-benchmark -p \(port) -n \(rows.count) -P 512 -c 1 -q"
                + " XADD refstream '*' room 42 kind danmaku id_str sim-42-1-123456789 json \(payload)")
        referenceServerCPU.append((redisServerCPUSeconds(port: port) - server) * 1e6 / Double(rows.count))
        // "XADD refstream * …: 123456.79 requests per second, p50=…"
        guard let tail = result.output.split(separator: ":").dropFirst().last,
            let rate = Double(tail.split(separator: " ").first ?? "")
        else {
            progress("sinks: redis-benchmark output not understood: \(result.output.suffix(200))")
            break
        }
        reference.append(rate)
    }
    if !reference.isEmpty {
        figures.append(
            BenchmarkFigure(
                name: "redis_benchmark_xadd_per_second", value: median(reference),
                unit: "XADD/s", note: "redis-benchmark -P 512 -c 1, same fields and size"))
        figures.append(
            BenchmarkFigure(
                name: "redis_benchmark_server_cpu_us_per_xadd", value: median(referenceServerCPU), unit: "µs",
                note: "redis-server's CPU per XADD under redis-benchmark (bare XADDs, no MULTI)"))
        figures.append(
            BenchmarkFigure(
                name: "redis_ratio_vs_redis_benchmark", value: median(ours) / median(reference),
                unit: "×", note: "target ≥ 0.7"))
    }
    return figures
}
