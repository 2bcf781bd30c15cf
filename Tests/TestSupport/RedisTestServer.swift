import Glibc

/// A throwaway `redis-server` on a free loopback port with its own temporary directory, for every test that needs a
/// real Redis (DanmuPipelineTests, DanmuClusterTests, CLITests). Stopped (SIGTERM, reaped, directory removed) by
/// `stop()` or `deinit`. A missing redis-server throws `Failure` naming Scripts/ensure-test-deps.sh: the test fails.
public final class RedisTestServer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: UInt16
    public let directory: String
    public private(set) var pid: pid_t = 0
    /// With an append-only file (`appendfsync always`): a restart keeps the keys and their expiry times.
    public let persistent: Bool
    /// `--requirepass`, when set.
    public let password: String?

    public init(persistent: Bool = false, password: String? = nil) throws(Failure) {
        self.persistent = persistent
        self.password = password
        guard access("/usr/bin/redis-server", X_OK) == 0 || access("/usr/local/bin/redis-server", X_OK) == 0 else {
            throw Failure(description: "redis-server is not installed: run Scripts/ensure-test-deps.sh")
        }
        var template = Array("/tmp/danmu-cluster-redis-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        directory = String(cString: made)
        port = freeLoopbackPort()
        try start()
    }

    deinit { stop() }

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts (or restarts after `kill9()`) the server on the same port; waits until it accepts connections.
    public func start() throws(Failure) {
        let tool = access("/usr/bin/redis-server", X_OK) == 0 ? "/usr/bin/redis-server" : "/usr/local/bin/redis-server"
        var arguments = [
            tool, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly",
            persistent ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--logfile",
            directory + "/redis.log",
        ]
        if let password { arguments += ["--requirepass", password] }
        guard let child = spawnProcess(arguments, output: directory + "/redis.out") else {
            throw Failure(description: "cannot start \(tool)")
        }
        pid = child
        let ready = pollUntil(timeout: .seconds(10), interval: .milliseconds(20)) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            return connectToLoopback(fd, port: port) == 0
        }
        guard ready else { throw Failure(description: "redis-server did not accept connections on port \(port)") }
    }

    /// SIGKILL and reap (the directory stays, for a restart).
    public func kill9() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    public func stop() {
        if pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            pid = 0
        }
        if !directory.isEmpty { _ = system("rm -rf '\(directory)'") }
    }

    /// `redis-cli -p PORT [-a PASSWORD] --raw args…`: the reference client reading back what the code under test wrote.
    public func cli(_ arguments: [String]) -> (status: Int32, output: String) {
        var argv = ["redis-cli", "-p", String(port), "--raw"]
        if let password { argv += ["--no-auth-warning", "-a", password] }
        return runProcess(argv + arguments)
    }

    /// The `id_str` field of every entry of `stream`, in stream order, read back with redis-cli XRANGE.
    public func idStrs(_ stream: String) -> [String] {
        let lines = cli(["XRANGE", stream, "-", "+"]).output.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        var i = 0
        while i < lines.count {
            if lines[i] == "id_str", i + 1 < lines.count {
                out.append(String(lines[i + 1]))
                i += 2
            } else {
                i += 1
            }
        }
        return out
    }
}
