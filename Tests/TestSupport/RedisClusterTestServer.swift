import Glibc

/// A throwaway 3-master Redis Cluster on loopback ports (no replicas, no persistence, one temporary directory):
/// three `redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`, ready once every node
/// reports `cluster_state:ok`. Stopped (SIGTERM, reaped, directory removed) by `stop()` or `deinit`. A missing
/// redis-server or redis-cli, or a cluster that does not form, throws `Failure` naming
/// Scripts/ensure-test-deps.sh: the test fails, it is never skipped.
public final class RedisClusterTestServer {
    public typealias Failure = RedisTestServer.Failure

    /// The masters' client ports (each one's cluster bus is port + 10000).
    public private(set) var ports: [UInt16] = []
    public let directory: String
    private var pids: [pid_t] = []

    public init(masters: Int = 3) throws(Failure) {
        for tool in ["redis-server", "redis-cli"] where Self.path(of: tool) == nil {
            throw Failure(description: "\(tool) is not installed: run Scripts/ensure-test-deps.sh")
        }
        var template = Array("/tmp/danmu-redis-cluster-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        directory = String(cString: made)
        do throws(Failure) {
            try start(masters: masters)
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

    /// The index of the master that owns `slot`, from `CLUSTER SLOTS` as master 0 sees it.
    public func owner(ofSlot slot: Int) -> Int? {
        // `CLUSTER SHARDS` would be tidier but is Redis 7+; `CLUSTER NODES` lines read
        // `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges…>`.
        for line in cli(0, ["cluster", "nodes"]).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 9, let at = fields[1].firstIndex(of: "@"),
                let colon = fields[1][..<at].lastIndex(of: ":"),
                let port = UInt16(fields[1][fields[1].index(after: colon)..<at]),
                let index = ports.firstIndex(of: port)
            else { continue }
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

    public func stop() {
        for pid in pids where pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        pids = []
        if !directory.isEmpty { _ = system("rm -rf '\(directory)'") }
    }

    private func start(masters: Int) throws(Failure) {
        let server = Self.path(of: "redis-server")!
        for _ in 0..<masters {
            let port = try Self.freeClusterPort(avoiding: ports)
            ports.append(port)
            let arguments = [
                server, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--cluster-enabled", "yes",
                "--cluster-config-file", "\(directory)/nodes-\(port).conf", "--cluster-node-timeout", "5000",
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
                + ports.map { "127.0.0.1:\($0)" }.joined(separator: " ") + " --cluster-replicas 0 --cluster-yes")
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
