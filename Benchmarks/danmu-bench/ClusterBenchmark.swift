import Glibc

// cluster: 3 `danmu-cli listen --cluster` nodes (separate processes, the release danmu-cli beside this executable)
// share N simulated rooms (default 5,000) through one local redis-server; the simulator is `danmu-cli simulate`
// (danmaku only, a low rate; DANMU_BENCH_CLI names another danmu-cli). Per run:
//   - coverage: seconds from spawning the nodes until every room's lease is held (not `handoff:`) by a node;
//   - steady window (3 lease TTLs, nothing else talking to Redis but MONITOR): the Redis commands the nodes send,
//     from MONITOR, split into coordination (everything but the shared dedupe's SET seen:/mark:) and dedupe,
//     per room per lease TTL; INFO commandstats over the same window (it also counts the commands the scripts run
//     inside Redis, e.g. renew's GET + PEXPIRE per lease); CPU (% of one core) and RSS of each node;
//   - join: a 4th node starts; seconds until it holds its share (N / 4) and no lease is `handoff:`;
//   - leave: the 4th node gets SIGTERM; seconds until the 3 others hold every room again;
//   - kill: one of the 3 gets SIGKILL; seconds until the 2 others hold every room.
// Rebalance times are also quoted in lease TTLs (the target: within 2). Medians of `runs` runs.

private let clusterKey = "{danmu}"

/// A child with stdout and stderr in files (`<dir>/<name>.out`, `.err`).
private struct ClusterChild {
    let pid: pid_t
    let out: String

    init(_ executable: String, _ arguments: [String], directory: String, name: String) {
        out = directory + "/" + name + ".out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(
            &actions, 2, directory + "/" + name + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        pid = posix_spawn(&child, executable, &actions, nil, argv, environ) == 0 ? child : -1
    }

    func signal(_ number: Int32) { if pid > 0 { kill(pid, number) } }

    func wait() {
        guard pid > 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// utime + stime of the process in seconds (/proc/<pid>/stat fields 14 and 15).
    var cpuSeconds: Double {
        guard let text = readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) is index 11 and stime (15) index 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmRSS in bytes.
    var residentBytes: Int {
        guard let text = readText("/proc/\(pid)/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}

private func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// `/bin/sh -c command`, its stdout + stderr.
private func shellRun(_ command: String) -> String {
    let directory = "/tmp/danmu-bench-cluster-sh-\(getpid())"
    mkdir(directory, 0o700)
    let child = ClusterChild("/bin/sh", ["-c", command + " 2>&1"], directory: directory, name: "sh")
    child.wait()
    let text = readText(child.out) ?? ""
    unlink(child.out)
    unlink(directory + "/sh.err")
    rmdir(directory)
    return text
}

private func clusterSleep(_ seconds: Double) { usleep(UInt32(seconds * 1e6)) }

private func clusterNow() -> Double { Double(ProcessMetrics.monotonicNanoseconds()) / 1e9 }

/// One run's readings.
private struct ClusterRunFigures {
    var coverage = 0.0
    var coordinationPerRoomPerTTL = 0.0
    var statsPerRoomPerTTL = 0.0
    var dedupePerDanmaku = 0.0
    var cpuPercent: [Double] = []
    var rssMB: [Double] = []
    var join = 0.0
    var leave = 0.0
    var kill = 0.0
}

private final class ClusterHarness {
    let rooms: Int
    let ttl: Double
    let rate: Double
    let cli: String
    let directory: String
    let port: UInt16
    var nodes: [ClusterChild] = []
    var simulator: ClusterChild?

    init(rooms: Int, ttl: Double, rate: Double, cli: String, index: Int) {
        self.rooms = rooms
        self.ttl = ttl
        self.rate = rate
        self.cli = cli
        directory = "/tmp/danmu-bench-cluster-\(getpid())-\(index)"
        _ = shellRun("rm -rf \(directory) && mkdir -p \(directory)")
        port = freePort()
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    func redis(_ arguments: String) -> String { shellRun("redis-cli -p \(port) \(arguments)") }

    func startRedis() -> Bool {
        _ = shellRun(
            "redis-server --port \(port) --bind 127.0.0.1 --save '' --appendonly no --dir \(directory) --daemonize yes"
                + " --pidfile \(directory)/redis.pid --logfile \(directory)/redis.log")
        for _ in 0..<200 {
            if redis("ping").contains("PONG") { return true }
            usleep(20_000)
        }
        return false
    }

    /// Adds the rooms (in chunks: one argv stays small) and starts the simulator; false when it did not come up.
    func startRoomsAndSimulator() -> Bool {
        var first = 1
        while first <= rooms {
            let last = min(rooms, first + 999)
            _ = shellRun("\(cli) rooms add --cluster \(url) " + (first...last).map(String.init).joined(separator: " "))
            first = last + 1
        }
        let simulator = ClusterChild(
            cli,
            [
                "simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms)", "--rate", "\(rate)", "--mix", "danmaku",
            ], directory: directory, name: "simulator")
        self.simulator = simulator
        for _ in 0..<200 {
            if let text = readText(simulator.out), text.contains("\n") { return true }
            usleep(50_000)
        }
        return false
    }

    var simulatorPort: String {
        let line = readText(simulator?.out ?? "")?.split(separator: "\n").first ?? ""
        return line.split(separator: ":").last.map(String.init) ?? "0"
    }

    func startNode(_ index: Int) {
        nodes.append(
            ClusterChild(
                cli,
                [
                    "listen", "--cluster", url, "--server", "127.0.0.1:\(simulatorPort)", "--lease-ttl", "\(ttl)",
                    "--output", "/dev/null", "--no-status",
                ], directory: directory, name: "node\(index)"))
    }

    /// Owner → rooms held (not `handoff:`); "" counts free and handed-over leases.
    func owners() -> [String: Int] {
        let script =
            "local c = {} for i = 1, tonumber(ARGV[1]) do local v = redis.call('GET', '\(clusterKey):lease:' .. i)"
            + " if (not v) or string.sub(v, 1, 8) == 'handoff:' then v = '' end c[v] = (c[v] or 0) + 1 end"
            + " local r = {} for k, n in pairs(c) do r[#r + 1] = k .. '=' .. n end return r"
        var counts: [String: Int] = [:]
        for line in redis("--raw EVAL \"\(script)\" 0 \(rooms)").split(separator: "\n") {
            let parts = line.split(separator: "=", omittingEmptySubsequences: false)
            if parts.count == 2, let n = Int(parts[1]) { counts[String(parts[0])] = n }
        }
        return counts
    }

    /// Live node ids (the heartbeat ZSET).
    func liveNodes() -> [String] {
        redis("--raw ZRANGE \(clusterKey):nodes 0 -1").split(separator: "\n").map(String.init)
    }

    /// Seconds from `start` until `condition` holds (polled every 100 ms), or -1 after `timeout`.
    func seconds(since start: Double, timeout: Double, until condition: ([String: Int]) -> Bool) -> Double {
        while clusterNow() - start < timeout {
            if condition(owners()) { return clusterNow() - start }
            usleep(100_000)
        }
        return -1
    }

    func stop() {
        for node in nodes { node.signal(SIGKILL) }
        for node in nodes { node.wait() }
        simulator?.signal(SIGKILL)
        simulator?.wait()
        _ = redis("shutdown nosave")
        _ = shellRun("rm -rf \(directory)")
    }
}

private func oneClusterRun(rooms: Int, ttl: Double, rate: Double, cli: String, run index: Int) -> ClusterRunFigures? {
    let h = ClusterHarness(rooms: rooms, ttl: ttl, rate: rate, cli: cli, index: index)
    defer { h.stop() }
    guard h.startRedis() else {
        progress("cluster: redis-server did not start (Scripts/ensure-test-deps.sh installs it)")
        return nil
    }
    guard h.startRoomsAndSimulator() else {
        progress("cluster: the simulator did not start")
        return nil
    }
    var figures = ClusterRunFigures()
    let started = clusterNow()
    for i in 0..<3 { h.startNode(i) }
    figures.coverage = h.seconds(since: started, timeout: 60) { owners in
        owners[""] == nil && owners.values.reduce(0, +) == rooms && owners.count == 3
    }
    progress("cluster run \(index + 1): every room held after \(figures.coverage) s")
    guard figures.coverage > 0 else { return nil }

    // Steady window: settle one TTL, then 3 TTLs of MONITOR + commandstats + per-node CPU.
    clusterSleep(ttl)
    let window = 3 * ttl
    _ = h.redis("config resetstat")
    let monitor = ClusterChild(
        "/bin/sh", ["-c", "exec redis-cli -p \(h.port) monitor"], directory: h.directory, name: "monitor")
    let cpuBefore = h.nodes.map(\.cpuSeconds)
    let windowStart = clusterNow()
    clusterSleep(window)
    let elapsed = clusterNow() - windowStart
    let cpuAfter = h.nodes.map(\.cpuSeconds)
    let stats = h.redis("info commandstats")
    monitor.signal(SIGTERM)
    monitor.wait()
    figures.cpuPercent = zip(cpuBefore, cpuAfter).map { 100 * ($1 - $0) / elapsed }
    figures.rssMB = h.nodes.map { Double($0.residentBytes) / 1e6 }

    var coordination = 0
    var dedupe = 0
    var danmaku = 0
    for line in (readText(monitor.out) ?? "").split(whereSeparator: \.isNewline) {
        // `<time> [0 127.0.0.1:port] "CMD" "arg" …`; commands run by scripts show as `[0 lua]`.
        guard let bracket = line.firstIndex(of: "["), !line.contains(" lua] ") else { continue }
        let rest = line[bracket...]
        if rest.contains("\"\(clusterKey):seen:") {
            dedupe += 1
            danmaku += 1
        } else if rest.contains("\"\(clusterKey):mark:") {
            dedupe += 1
        } else if rest.contains("\"") {
            coordination += 1
        }
    }
    let ttls = elapsed / ttl
    figures.coordinationPerRoomPerTTL = Double(coordination) / Double(rooms) / ttls
    figures.dedupePerDanmaku = danmaku > 0 ? Double(dedupe) / Double(danmaku) : 0
    // commandstats: every call but SET (the dedupe's marks; the heartbeat's one SET per period is left out too).
    var statCalls = 0
    for line in stats.split(whereSeparator: \.isNewline)
    where line.hasPrefix("cmdstat_") && !line.hasPrefix("cmdstat_set:") {
        if let calls = line.split(separator: ":").last?.split(separator: ",").first?.split(separator: "=").last,
            let n = Int(calls), !line.hasPrefix("cmdstat_config:"), !line.hasPrefix("cmdstat_monitor:")
        {
            statCalls += n
        }
    }
    figures.statsPerRoomPerTTL = Double(statCalls) / Double(rooms) / ttls
    progress(
        "cluster run \(index + 1): \(coordination) coordination commands (MONITOR), \(statCalls) commandstats calls, "
            + "\(dedupe) dedupe commands for \(danmaku) danmaku in \(elapsed) s; CPU \(figures.cpuPercent) %")

    // Join: a 4th node.
    let before = Set(h.liveNodes())
    let joinStart = clusterNow()
    h.startNode(3)
    var newcomer = ""
    figures.join = h.seconds(since: joinStart, timeout: 60) { owners in
        if newcomer.isEmpty { newcomer = Set(h.liveNodes()).subtracting(before).first ?? "" }
        return !newcomer.isEmpty && owners[newcomer] == rooms / 4 && owners[""] == nil
            && owners.values.reduce(0, +) == rooms
    }
    progress("cluster run \(index + 1): a 4th node holds its share after \(figures.join) s")
    // Leave: SIGTERM the 4th (graceful hand-over).
    clusterSleep(ttl / 3)
    let leaveStart = clusterNow()
    h.nodes[3].signal(SIGTERM)
    figures.leave = h.seconds(since: leaveStart, timeout: 60) { owners in
        owners[newcomer] == nil && owners[""] == nil && owners.values.reduce(0, +) == rooms && owners.count == 3
    }
    h.nodes[3].wait()
    progress("cluster run \(index + 1): the 3 others hold every room \(figures.leave) s after the 4th's SIGTERM")
    // Kill: SIGKILL one of the 3.
    clusterSleep(ttl / 3)
    let killStart = clusterNow()
    h.nodes[2].signal(SIGKILL)
    figures.kill = h.seconds(since: killStart, timeout: 60) { owners in
        owners[""] == nil && owners.values.reduce(0, +) == rooms && owners.count == 2
    }
    progress("cluster run \(index + 1): the 2 others hold every room \(figures.kill) s after a SIGKILL")
    return figures
}

func runClusterBenchmark(rooms: Int, runs: Int, ttl: Double, rate: Double) -> [BenchmarkFigure] {
    guard shellRun("command -v redis-server").contains("redis-server") else {
        progress("cluster: no redis-server (Scripts/ensure-test-deps.sh installs it); skipped")
        return []
    }
    var path = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &path, path.count - 1)
    let executable = n > 0 ? String(decoding: path[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    // DANMU_BENCH_CLI: another danmu-cli (e.g. the release one while this harness is a debug build).
    let cli =
        getenv("DANMU_BENCH_CLI").map { String(cString: $0) }
        ?? String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)]) + "/danmu-cli"
    guard access(cli, X_OK) == 0 else {
        progress("cluster: \(cli) missing: swift build -c release --product danmu-cli")
        return []
    }
    progress("cluster: 3 nodes × \(rooms) rooms, lease TTL \(ttl) s, \(rate) danmaku/s per room, \(runs) run(s)")
    let results = (0..<runs).compactMap { oneClusterRun(rooms: rooms, ttl: ttl, rate: rate, cli: cli, run: $0) }
    guard !results.isEmpty else { return [] }
    func figure(_ name: String, _ values: [Double], _ unit: String, _ note: String = "") -> BenchmarkFigure {
        BenchmarkFigure(name: name, value: median(values), unit: unit, note: note)
    }
    let note = "\(rooms) rooms, 3 nodes, TTL \(ttl) s"
    return [
        figure("cluster_full_coverage", results.map(\.coverage), "s", note),
        figure("cluster_join_rebalance", results.map(\.join), "s", "a 4th node holds rooms/4"),
        figure("cluster_join_rebalance_ttls", results.map { $0.join / ttl }, "TTL", "target ≤ 2"),
        figure("cluster_leave_rebalance", results.map(\.leave), "s", "SIGTERM of the 4th"),
        figure("cluster_leave_rebalance_ttls", results.map { $0.leave / ttl }, "TTL", "target ≤ 2"),
        figure("cluster_kill_takeover", results.map(\.kill), "s", "SIGKILL of one of 3"),
        figure("cluster_kill_takeover_ttls", results.map { $0.kill / ttl }, "TTL", "target ≤ 2"),
        figure(
            "cluster_coordination_commands", results.map(\.coordinationPerRoomPerTTL), "/room/TTL",
            "MONITOR, sent by the nodes; target ≤ 1"),
        figure(
            "cluster_commandstats_calls", results.map(\.statsPerRoomPerTTL), "/room/TTL",
            "INFO commandstats, incl. commands run inside scripts"),
        figure("cluster_dedupe_commands", results.map(\.dedupePerDanmaku), "/danmaku", "SET NX seen: + SET mark:"),
        figure("cluster_node_cpu", results.map { median($0.cpuPercent) }, "% core", "median node, steady"),
        figure("cluster_node_cpu_max", results.map { $0.cpuPercent.max() ?? 0 }, "% core", "busiest node"),
        figure("cluster_node_rss", results.map { median($0.rssMB) }, "MB", "median node, steady"),
        figure("cluster_node_rss_max", results.map { $0.rssMB.max() ?? 0 }, "MB", "largest node"),
    ]
}
