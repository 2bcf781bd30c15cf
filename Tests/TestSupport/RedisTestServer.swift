import Glibc

/// A throwaway `redis-server` on a free loopback port (its own temporary directory, no persistence), for the
/// cluster tests of DanmuClusterTests and CLITests. Stopped (SIGTERM, reaped, directory removed) by `stop()`
/// or `deinit`. A missing redis-server throws `Failure` naming Scripts/ensure-test-deps.sh: the test fails.
public final class RedisTestServer {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: UInt16
    public let directory: String
    public private(set) var pid: pid_t = 0
    /// With an append-only file (`appendfsync always`): a restart keeps the keys and their expiry times.
    public let persistent: Bool

    public init(persistent: Bool = false) throws(Failure) {
        self.persistent = persistent
        guard access("/usr/bin/redis-server", X_OK) == 0 || access("/usr/local/bin/redis-server", X_OK) == 0 else {
            throw Failure(description: "redis-server is not installed: run Scripts/ensure-test-deps.sh")
        }
        var template = Array("/tmp/danmu-cluster-redis-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        directory = String(cString: made)
        port = Self.freePort()
        try start()
    }

    deinit { stop() }

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts (or restarts after `kill9()`) the server on the same port; waits until it accepts connections.
    public func start() throws(Failure) {
        let tool = access("/usr/bin/redis-server", X_OK) == 0 ? "/usr/bin/redis-server" : "/usr/local/bin/redis-server"
        let arguments = [
            tool, "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly",
            persistent ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--logfile",
            directory + "/redis.log",
        ]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, tool, &actions, nil, argv, environ)
        guard status == 0 else {
            throw Failure(description: "posix_spawn redis-server: \(String(cString: strerror(status)))")
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

    /// A port the kernel just handed out for an ephemeral bind (then released).
    private static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) }
        }
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
