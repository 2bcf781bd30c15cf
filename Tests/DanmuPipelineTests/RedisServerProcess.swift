import EventLoop
import Glibc
import TestSupport
import XCTest

/// A real `redis-server` on a free loopback port with its own temporary directory (append-only file with
/// `appendfsync always`, so a SIGKILL loses nothing Redis acknowledged), stopped and removed by `stop()`.
/// A missing redis-server FAILS the test, naming the script that installs it.
final class RedisServerProcess {
    let port: UInt16
    let directory: String
    private(set) var pid: pid_t = 0
    let password: String?

    init(password: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        guard runProcess(["sh", "-c", "command -v redis-server && command -v redis-cli"]).status == 0 else {
            XCTFail(
                "redis-server / redis-cli are not installed: run Scripts/ensure-test-deps.sh", file: file, line: line)
            throw TestSetupFailure("no redis-server (a failure was recorded)")
        }
        var template = Array("/tmp/danmu-redis-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSetupFailure("mkdtemp failed") }
        directory = String(cString: made)
        port = Self.freePort()
        self.password = password
        try start()
    }

    /// A port the kernel just handed out for an ephemeral bind (then released).
    private static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) }
        }
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    func start() throws {
        var arguments = [
            "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
        ]
        if let password { arguments += ["--requirepass", password] }
        guard let child = spawn(arguments, output: directory + "/redis.log") else {
            XCTFail("cannot start redis-server")
            throw TestSetupFailure("no redis-server")
        }
        pid = child
        let ready = pollUntil(timeout: .seconds(10), interval: .milliseconds(20)) {
            cli(["PING"]).output.contains("PONG") || cli(["PING"]).output.contains("NOAUTH")
        }
        if !ready {
            let log = TestFiles.read(directory + "/redis.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
            XCTFail("redis-server did not answer on port \(port): \(log)")
            throw TestSetupFailure("redis-server did not start")
        }
    }

    /// `redis-cli -p PORT [-a PASSWORD] --raw args…`.
    func cli(_ arguments: [String]) -> (status: Int32, output: String) {
        var argv = ["redis-cli", "-p", String(port), "--raw"]
        if let password { argv += ["--no-auth-warning", "-a", password] }
        return runProcess(argv + arguments)
    }

    func kill9() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    func stop() {
        if pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            pid = 0
        }
        _ = system("rm -rf '\(directory)'")
    }

    /// The `id_str` field of every entry of `stream`, in stream order, read back with redis-cli XRANGE.
    func idStrs(_ stream: String) -> [String] {
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
