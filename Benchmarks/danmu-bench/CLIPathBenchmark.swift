import DanmuSimulator
import Glibc

// `cli` (issue 11's output half): danmu-cli itself as a child process — `listen --server` against a simulator child,
// `--format jsonl` into a pipe this process reads — so the figures are what a user of the CLI gets:
//   latency: N rooms × R msg/s (brotli, batch 1): p50/p99/p999 from the simulator's send stamp (CLOCK_MONOTONIC in
//            the danmaku's id_str, which the JSON line carries) to the moment this process read the line;
//   flood:   100 rooms flooding (plain): CPU µs per line of the danmu-cli child (/proc/PID/stat), beside the floor
//            client (FloorClient: frames counted, nothing decoded) in the same harness, and their ratio.
// The binary is `danmu-cli` next to danmu-bench, or $DANMU_CLI (to measure another build, e.g. the one before a fix).

/// The danmu-cli executable the scenario runs.
private func cliExecutable() -> String {
    if let override = getenv("DANMU_CLI") { return String(cString: override) }
    var path = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &path, path.count - 1)
    guard n > 0 else { return "danmu-cli" }
    let selfPath = String(decoding: path[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let slash = selfPath.lastIndex(of: "/") else { return "danmu-cli" }
    return String(selfPath[...slash]) + "danmu-cli"
}

/// User + system CPU seconds of a live child, from /proc/PID/stat (fields 14 and 15, in clock ticks).
private func childCPUSeconds(_ pid: pid_t) -> Double {
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .nan }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 2048)
    let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0, let close = bytes[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return .nan }
    // After "pid (comm) ": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
    let fields = bytes[(close + 2)..<n].split(separator: UInt8(ascii: " "))
    guard fields.count > 12, let user = Int(String(decoding: fields[11], as: UTF8.self)),
        let system = Int(String(decoding: fields[12], as: UTF8.self))
    else { return .nan }
    return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Reads the JSON Lines of a danmu-cli child: counts lines, notes the rooms seen and, when recording, the latency
/// of each danmaku line (read time − the send stamp in its id_str). One clock reading per read(2).
private final class LineReader {
    let fd: Int32
    var lines = 0
    var roomsSeen = Set<Int64>()
    var recording = false
    var trackRooms = true
    var latencies: [UInt64] = []
    private var carry: [UInt8] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)

    init(fd: Int32) { self.fd = fd }
    deinit { buffer.deallocate() }

    /// Reads whatever arrives within `timeoutMilliseconds`; false at end of file.
    func poll(timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&entry, 1, timeoutMilliseconds)
        guard ready > 0 else { return true }
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n < 0 { return errno == EINTR || errno == EAGAIN }
        if n == 0 { return false }
        let now = ProcessMetrics.monotonicNanoseconds()
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        guard recording || trackRooms || !carry.isEmpty else {
            // Counting only (the flood): newlines, nothing else.
            lines += chunk.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            return true
        }
        var start = 0
        for index in 0..<n where chunk[index] == 10 {
            if carry.isEmpty {
                line(UnsafeRawBufferPointer(rebasing: chunk[start..<index]), readAt: now)
            } else {
                carry.append(contentsOf: chunk[start..<index])
                carry.withUnsafeBytes { line($0, readAt: now) }
                carry.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        if start < n { carry.append(contentsOf: chunk[start..<n]) }
        return true
    }

    private static let roomKey = Array(#"{"room":"#.utf8)
    private static let idKey = Array(#""id_str":"sim-"#.utf8)

    private func line(_ text: UnsafeRawBufferPointer, readAt now: UInt64) {
        lines += 1
        if trackRooms, text.starts(with: Self.roomKey) {
            var room: Int64 = 0
            var index = Self.roomKey.count
            while index < text.count, text[index] >= 0x30, text[index] <= 0x39 {
                room = room * 10 + Int64(text[index] - 0x30)
                index += 1
            }
            roomsSeen.insert(room)
        }
        guard recording, let found = find(Self.idKey, in: text) else { return }
        // sim-<room>-<seq>-<ns>"
        var end = found
        while end < text.count, text[end] != UInt8(ascii: "\"") { end += 1 }
        let id = "sim-" + String(decoding: UnsafeRawBufferPointer(rebasing: text[found..<end]), as: UTF8.self)
        guard let parsed = SimulatedMessageID(idStr: id) else { return }
        latencies.append(now &- min(now, parsed.sentAtNs))
    }

    /// The index just past the first occurrence of `needle` in `text`.
    private func find(_ needle: [UInt8], in text: UnsafeRawBufferPointer) -> Int? {
        guard text.count >= needle.count else { return nil }
        var index = 0
        let first = needle[0]
        while index <= text.count - needle.count {
            if text[index] == first {
                var matched = 1
                while matched < needle.count, text[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index + needle.count }
            }
            index += 1
        }
        return nil
    }
}

/// `danmu-cli listen` against `port` with `rooms` rooms, JSON Lines to our pipe.
private func startCLI(port: UInt16, rooms: Int, workers: Int?) throws(ChildProcessError) -> ChildProcess {
    var arguments = [
        "listen", "--server", "127.0.0.1:\(port)", "--format", "jsonl", "--no-status", "--protover", "3",
    ]
    if let workers { arguments += ["--workers", String(workers)] }
    arguments += (1...rooms).map { String($0) }
    return try ChildProcess(executable: cliExecutable(), arguments: arguments)
}

/// Stops the CLI: SIGTERM, then reads its output to the end of file (it writes what is pending before it exits; a
/// pipe nobody reads would block that write forever), SIGKILL when it takes longer than 30 s, then reaps it.
private func stopCLI(_ cli: ChildProcess, _ reader: LineReader) {
    kill(cli.pid, SIGTERM)
    reader.recording = false
    reader.trackRooms = false
    let deadline = ProcessMetrics.monotonicNanoseconds() + 30_000_000_000
    var killed = false
    while reader.poll(timeoutMilliseconds: 100) {
        if !killed, ProcessMetrics.monotonicNanoseconds() > deadline {
            progress("cli: danmu-cli did not exit 30 s after SIGTERM; killing it")
            kill(cli.pid, SIGKILL)
            killed = true
        }
    }
    cli.wait()
}

/// One latency round; nil when it could not run.
private func runCLILatencyRound(rooms: Int, rate: Double, seconds: Double) -> (samples: [Double], lines: Int)? {
    do {
        let server = try SimulatorProcess(.init(rooms: rooms, rate: rate, compression: "brotli", batch: 1))
        defer { _ = server.stop() }
        let cli = try startCLI(port: server.port, rooms: rooms, workers: nil)
        let reader = LineReader(fd: cli.stdoutFD)
        defer { stopCLI(cli, reader) }
        // Every room has written a line (all are live), or 60 s passed.
        let connectStart = ProcessMetrics.monotonicNanoseconds()
        while reader.roomsSeen.count < rooms, ProcessMetrics.monotonicNanoseconds() - connectStart < 60_000_000_000 {
            guard reader.poll(timeoutMilliseconds: 100) else { return nil }
        }
        if reader.roomsSeen.count < rooms { progress("cli: only \(reader.roomsSeen.count) of \(rooms) rooms wrote") }
        reader.trackRooms = false
        func readFor(_ seconds: Double) -> Bool {
            let end = ProcessMetrics.monotonicNanoseconds() + UInt64(seconds * 1e9)
            while ProcessMetrics.monotonicNanoseconds() < end {
                guard reader.poll(timeoutMilliseconds: 50) else { return false }
            }
            return true
        }
        guard readFor(1) else { return nil }  // warm-up
        reader.recording = true
        let linesBefore = reader.lines
        guard readFor(seconds) else { return nil }
        return (reader.latencies.map { Double($0) / 1e6 }.sorted(), reader.lines - linesBefore)
    } catch {
        progress("cli: latency round failed: \(error)")
        return nil
    }
}

/// One flood round: `rooms` × `limitPerRoom` messages (plain) until the CLI wrote them all (or was quiet for
/// `quietSeconds`); the child's CPU µs per line.
private func runCLIFloodRound(rooms: Int, limitPerRoom: Int, quietSeconds: Double, timeoutSeconds: Double)
    -> (cpuPerLine: Double, lines: Int, seconds: Double)?
{
    do {
        let server = try SimulatorProcess(
            .init(rooms: rooms, rate: 0, compression: "none", limitPerRoom: limitPerRoom, batch: 10))
        defer { _ = server.stop() }
        let cli = try startCLI(port: server.port, rooms: rooms, workers: nil)
        let reader = LineReader(fd: cli.stdoutFD)
        defer { stopCLI(cli, reader) }
        reader.trackRooms = false
        let expected = rooms * limitPerRoom
        let start = ProcessMetrics.monotonicNanoseconds()
        var lastLine = start
        var lastCount = 0
        var cpu = Double.nan
        // CPU and lines when the first lines arrived: the process start and the first connects are left out.
        var cpuAtFirst = Double.nan
        var linesAtFirst = 0
        while true {
            guard reader.poll(timeoutMilliseconds: 20) else { break }
            let now = ProcessMetrics.monotonicNanoseconds()
            if reader.lines != lastCount {
                if lastCount == 0 {
                    cpuAtFirst = childCPUSeconds(cli.pid)
                    linesAtFirst = reader.lines
                }
                lastCount = reader.lines
                lastLine = now
                // The CPU when the last expected line has been read (popularity lines may follow later).
                if reader.lines >= expected, cpu.isNaN { cpu = childCPUSeconds(cli.pid) }
            }
            if reader.lines >= expected { break }
            if Double(now - lastLine) / 1e9 > quietSeconds || Double(now - start) / 1e9 > timeoutSeconds {
                cpu = childCPUSeconds(cli.pid)
                progress("cli: flood stopped at \(reader.lines) of \(expected) lines")
                break
            }
        }
        let seconds = Double(lastLine - start) / 1e9
        return ((cpu - cpuAtFirst) / Double(max(1, reader.lines - linesAtFirst)) * 1e6, reader.lines, seconds)
    } catch {
        progress("cli: flood round failed: \(error)")
        return nil
    }
}

func runCLIPathBenchmark(
    latencyRooms: Int, rate: Double, seconds: Double, floodRooms: Int, floodPerRoom: Int, runs: Int
) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    progress("cli: \(cliExecutable())")
    var p50: [Double] = [], p99: [Double] = [], p999: [Double] = []
    var samples = 0
    for run in 1...runs {
        progress(
            "cli: latency, \(latencyRooms) rooms × \(format(rate)) msg/s for \(format(seconds)) s, run \(run)/\(runs)")
        guard let round = runCLILatencyRound(rooms: latencyRooms, rate: rate, seconds: seconds),
            !round.samples.isEmpty
        else { continue }
        p50.append(percentile(round.samples, 0.5))
        p99.append(percentile(round.samples, 0.99))
        p999.append(percentile(round.samples, 0.999))
        samples = round.samples.count
    }
    if p50.isEmpty {
        figures.append(BenchmarkFigure(name: "cli.latency", value: .nan, unit: "ms", note: "failed"))
    } else {
        let note = "median of \(p50.count); ~\(samples) danmaku lines, send → line read from the pipe"
        figures += [
            BenchmarkFigure(name: "cli.latency.p50", value: median(p50), unit: "ms", note: note + "; target ≤ 0.2"),
            BenchmarkFigure(name: "cli.latency.p99", value: median(p99), unit: "ms", note: "target ≤ 1"),
            BenchmarkFigure(name: "cli.latency.p999", value: median(p999), unit: "ms"),
        ]
    }
    var cliPerLine: [Double] = [], floorPerEvent: [Double] = [], ratios: [Double] = []
    var lost = 0
    for run in 1...runs {
        progress("cli: flood, \(floodRooms) rooms × \(floodPerRoom) msgs, plain, run \(run)/\(runs)")
        guard
            let cli = runCLIFloodRound(
                rooms: floodRooms, limitPerRoom: floodPerRoom, quietSeconds: 5, timeoutSeconds: 180)
        else { continue }
        lost += max(0, floodRooms * floodPerRoom - cli.lines)
        cliPerLine.append(cli.cpuPerLine)
        // The floor in the same run, same simulator settings.
        if let floor = runFloorFlood(
            rooms: floodRooms, limitPerRoom: floodPerRoom, compression: "none", timeoutSeconds: 180)
        {
            let perEvent = floor.cpuSeconds / Double(max(1, floor.messages)) * 1e6
            floorPerEvent.append(perEvent)
            ratios.append(cli.cpuPerLine / perEvent)
        }
    }
    guard !cliPerLine.isEmpty else {
        return figures + [BenchmarkFigure(name: "cli.flood", value: .nan, unit: "µs", note: "failed")]
    }
    figures.append(
        BenchmarkFigure(
            name: "cli.flood.cpu_per_event", value: median(cliPerLine), unit: "µs",
            note: "median of \(cliPerLine.count); danmu-cli child, /proc, from its first line; target ≤ 2.0; "
                + (lost == 0 ? "none missing" : "\(lost) lines missing")))
    if !floorPerEvent.isEmpty {
        figures += [
            BenchmarkFigure(
                name: "cli.flood.floor_cpu_per_event", value: median(floorPerEvent), unit: "µs",
                note: "FloorClient thread, same flood"),
            BenchmarkFigure(
                name: "cli.flood.ratio_vs_floor", value: median(ratios), unit: "×", note: "CLI ÷ floor, per run"),
        ]
    }
    return figures
}
