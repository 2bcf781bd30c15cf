import Glibc

/// A throwaway Redis Cluster on loopback ports (no persistence, one temporary directory): by default three
/// masters and no replicas; with `replicas: 1` three masters and one replica each (six servers), for failover.
/// `redis-server --cluster-enabled yes` per node, joined by `redis-cli --cluster create … --cluster-replicas N`,
/// ready once every node reports `cluster_state:ok` and every replica's link to its master is up. Stopped
/// (SIGTERM, reaped, directory removed) by `stop()` or `deinit`. A missing redis-server or redis-cli, or a
/// cluster that does not form, throws `Failure` naming Scripts/ensure-test-deps.sh: the test fails, it is never
/// skipped.
public final class RedisClusterTestServer {
    public typealias Failure = RedisTestServer.Failure

    /// Every node's client port (each one's cluster bus is port + 10000), in start order. Without replicas
    /// these are the masters; with them, which node is a master is what `owner(ofSlot:)` and `role(_:)` say
    /// (redis-cli chooses, and a failover changes it).
    public private(set) var ports: [UInt16] = []
    public let directory: String
    /// `cluster-node-timeout`: how long a node must be unreachable before the others mark it failed (and a
    /// replica starts its election).
    public let nodeTimeoutMilliseconds: Int
    private var pids: [pid_t] = []

    public init(masters: Int = 3, replicas: Int = 0, nodeTimeoutMilliseconds: Int = 5000) throws(Failure) {
        self.nodeTimeoutMilliseconds = nodeTimeoutMilliseconds
        for tool in ["redis-server", "redis-cli"] where Self.path(of: tool) == nil {
            throw Failure(description: "\(tool) is not installed: run Scripts/ensure-test-deps.sh")
        }
        var template = Array("/tmp/danmu-redis-cluster-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        directory = String(cString: made)
        do throws(Failure) {
            try start(masters: masters, replicas: replicas)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// `redis://127.0.0.1:PORT` of master `index`.
    public func url(_ index: Int = 0) -> String { "redis://127.0.0.1:\(ports[index])" }

    /// Runs `redis-cli -p PORT arguments…` against master `index` and returns its output (stdout and stderr).
    /// Arguments are single-quoted for the shell, so they must not contain `'`.
    public func cli(_ index: Int, _ arguments: [String]) -> String {
        Self.shell(
            "\(Self.path(of: "redis-cli")!) -p \(ports[index]) " + arguments.map { "'\($0)'" }.joined(separator: " "))
    }

    /// The index of the master that owns `slot`, from `CLUSTER NODES` as the first live node sees it.
    public func owner(ofSlot slot: Int) -> Int? {
        // `CLUSTER SHARDS` would be tidier but is Redis 7+; `CLUSTER NODES` lines read
        // `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges…>`.
        for (index, fields) in nodeLines() where fields.count >= 9 && !fields[2].contains("fail") {
            for range in fields[8...] where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 1, bounds[0] == slot { return index }
                if bounds.count == 2, (bounds[0]...bounds[1]).contains(slot) { return index }
            }
        }
        return nil
    }

    /// The cluster node id of master `index` (`CLUSTER MYID`).
    public func nodeID(_ index: Int) -> String {
        cli(index, ["cluster", "myid"]).split(separator: "\n").first.map(String.init) ?? ""
    }

    /// The nodes replicating `master` (indexes into `ports`), as the first live node sees it.
    public func replicas(of master: Int) -> [Int] {
        let id = nodeID(master)
        return nodeLines().filter { $0.fields[2].contains("slave") && $0.fields[3] == id }.map(\.index)
    }

    /// Whether node `index` is alive and says it is a master (`ROLE`).
    public func isMaster(_ index: Int) -> Bool {
        pids[index] > 0 && cli(index, ["role"]).hasPrefix("master")
    }

    /// SIGKILLs node `index` and reaps it (a master lost with its host: no failover handshake).
    public func killNode(_ index: Int) {
        guard pids[index] > 0 else { return }
        Glibc.kill(pids[index], SIGKILL)
        var status: Int32 = 0
        waitpid(pids[index], &status, 0)
        pids[index] = 0
    }

    /// The first node still running (for questions about the cluster after a kill).
    private var liveIndex: Int { pids.firstIndex { $0 > 0 } ?? 0 }

    /// `CLUSTER NODES` as the first live node sees it: (index into `ports`, the line's fields) per known node.
    private func nodeLines() -> [(index: Int, fields: [Substring])] {
        cli(liveIndex, ["cluster", "nodes"]).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 8, let at = fields[1].firstIndex(of: "@"),
                let colon = fields[1][..<at].lastIndex(of: ":"),
                let port = UInt16(fields[1][fields[1].index(after: colon)..<at]),
                let index = ports.firstIndex(of: port)
            else { return nil }
            return (index, fields)
        }
    }

    public func stop() {
        for pid in pids where pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        pids = []
        if !directory.isEmpty { _ = system("rm -rf '\(directory)'") }
    }

    private func start(masters: Int, replicas: Int) throws(Failure) {
        let server = Self.path(of: "redis-server")!
        for _ in 0..<masters * (1 + replicas) {
            let port = try Self.freeClusterPort(avoiding: ports)
            ports.append(port)
            let arguments = [
                server, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--cluster-enabled", "yes",
                "--cluster-config-file", "\(directory)/nodes-\(port).conf", "--cluster-node-timeout",
                String(nodeTimeoutMilliseconds),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "\(directory)/redis-\(port).log",
            ]
            guard let pid = spawnProcess(arguments, output: "\(directory)/redis-\(port).out") else {
                throw Failure(description: "cannot start \(server)")
            }
            pids.append(pid)
            let ready = pollUntil(timeout: .seconds(10), interval: .milliseconds(20)) {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                return connectToLoopback(fd, port: port) == 0
            }
            guard ready else {
                throw Failure(
                    description: "redis-server --cluster-enabled did not accept connections on port \(port) "
                        + "(log in \(directory)); check Scripts/ensure-test-deps.sh")
            }
        }
        let create = Self.shell(
            "\(Self.path(of: "redis-cli")!) --cluster create "
                + ports.map { "127.0.0.1:\($0)" }.joined(separator: " ")
                + " --cluster-replicas \(replicas) --cluster-yes")
        guard create.contains("[OK] All 16384 slots covered") else {
            throw Failure(
                description:
                    "redis-cli --cluster create failed (see Scripts/ensure-test-deps.sh): \(create.suffix(600))")
        }
        // `create` returns once the configuration is sent; every node must also see the state as ok (the bus
        // gossip converges within a second or two).
        let formed = pollUntil(timeout: .seconds(20), interval: .milliseconds(100)) {
            ports.indices.allSatisfy { cli($0, ["cluster", "info"]).contains("cluster_state:ok") }
        }
        guard formed else {
            throw Failure(
                description: "the Redis Cluster on ports \(ports) never reached cluster_state:ok within 20 s "
                    + "(logs in \(directory)); check Scripts/ensure-test-deps.sh")
        }
        guard replicas > 0 else { return }
        // A replica that has not synced cannot take over (and would have no data): wait for every link.
        let synced = pollUntil(timeout: .seconds(20), interval: .milliseconds(100)) {
            let roles = ports.indices.map { cli($0, ["role"]) }
            return roles.filter { $0.hasPrefix("slave") }.count == masters * replicas
                && roles.allSatisfy { !$0.hasPrefix("slave") || $0.contains("\nconnected\n") }
        }
        guard synced else {
            throw Failure(
                description: "the replicas of the Redis Cluster on ports \(ports) did not sync within 20 s "
                    + "(logs in \(directory))")
        }
    }

    /// `command` through `/bin/sh -c`, its stdout and stderr together.
    private static func shell(_ command: String) -> String {
        guard let pipe = popen(command + " 2>&1", "r") else { return "popen failed: errno \(errno)" }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, pipe)
            if n <= 0 { break }
            output += buffer[..<n]
        }
        pclose(pipe)
        return String(decoding: output, as: UTF8.self)
    }

    private static func path(of tool: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/"].map { $0 + tool }.first { access($0, X_OK) == 0 }
    }

    /// A port P with P and its cluster bus port P + 10000 both free: ephemeral ports (32768+) would put the bus
    /// past 65535, so pick from 20000–29999, starting at a pid-derived offset so parallel runs rarely collide.
    private static func freeClusterPort(avoiding taken: [UInt16]) throws(Failure) -> UInt16 {
        let start = Int(getpid()) &* 7919 &+ taken.count &* 101
        for step in 0..<10_000 {
            let port = UInt16(20_000 + (start &+ step * 37) % 10_000)
            if !taken.contains(port), bindable(port), bindable(port + 10_000) { return port }
        }
        throw Failure(description: "no free port pair P, P+10000 in 20000–39999 for a Redis Cluster node")
    }

    private static func bindable(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
