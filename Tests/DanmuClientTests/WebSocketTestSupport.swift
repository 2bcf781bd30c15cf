import Glibc
import TestSupport
import XCTest

/// A reference server (a Python script under Scripts/) run as a child process: started with posix_spawn, its
/// `PORT <n>` line read from a pipe within 20 s, killed by `stop()` if it has not exited by then.
final class ReferenceServer {
    let pid: pid_t
    let port: UInt16
    private var exited = false

    /// Fails the test (never skips: CI must not pass without its reference) when `python3 -c "import <module>"`
    /// fails; `Scripts/ensure-test-deps.sh` installs it.
    static func requirePython(module: String) throws {
        if system("python3 -c 'import \(module)' >/dev/null 2>&1") != 0 {
            throw MissingTestDependency(
                description: "python3 module \(module) is not installed: run Scripts/ensure-test-deps.sh")
        }
    }

    init(script: String, arguments: [String]) throws {
        struct StartFailed: Error, CustomStringConvertible { var description: String }
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw StartFailed(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv = ["python3", TestFiles.repositoryRoot + "/Scripts/" + script] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawnp(&child, "python3", &actions, nil, &cArguments, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard status == 0 else { throw StartFailed(description: "posix_spawnp python3: \(status)") }
        pid = child
        // Read "PORT n\n" (bounded: 20 s).
        var line: [UInt8] = []
        var poller = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
        while !line.contains(10) {
            guard poll(&poller, 1, 20_000) == 1 else { break }
            var byte: UInt8 = 0
            if read(pipe[0], &byte, 1) != 1 { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = UInt16(text.dropFirst(5).prefix { $0 != "\n" }) else {
            kill(child, SIGKILL)
            waitpid(child, nil, 0)
            throw StartFailed(description: "\(script) did not report a port (got \(text.debugDescription))")
        }
        self.port = port
    }

    /// Waits up to `seconds` for a normal exit; returns the exit status, or nil if it had to be killed.
    @discardableResult
    func stop(waiting seconds: Int = 5) -> Int32? {
        guard !exited else { return nil }
        exited = true
        var status: Int32 = 0
        for _ in 0..<(seconds * 20) {
            if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xFF }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }

    deinit { stop(waiting: 0) }
}

/// A blocking loopback TCP client with a 10 s receive timeout: enough to drive the transport layers in tests.
final class LoopbackSocket {
    struct SocketError: Error, CustomStringConvertible { var description: String }
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connectToLoopback(fd, port: port) == 0 else {
            close(fd)
            throw SocketError(description: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw SocketError(description: "send failed: errno \(errno)")
            }
            offset += written
        }
    }

    /// Up to 64 KiB; empty at end of stream; throws on timeout.
    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(buffer[..<count]) }
            if errno == EINTR { continue }
            throw SocketError(description: errno == EAGAIN ? "receive timed out (10 s)" : "recv failed: errno \(errno)")
        }
    }

    deinit { close(fd) }
}

/// A temporary directory with the test CA, a server certificate for localhost signed by it, and an unrelated
/// self-signed one (Scripts/make_test_certificates.sh, openssl CLI). Removed by `remove()`.
struct TestCertificates {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var untrustedCertificate: String { directory + "/other.pem" }
    var untrustedKey: String { directory + "/other.key" }

    init() throws {
        if system("command -v openssl >/dev/null 2>&1") != 0 {
            throw MissingTestDependency(
                description: "the openssl CLI is not installed: run Scripts/ensure-test-deps.sh")
        }
        directory = try TemporaryDirectory(prefix: "danmu-tls").path
        let script = TestFiles.repositoryRoot + "/Scripts/make_test_certificates.sh"
        guard system("'\(script)' '\(directory)' >/dev/null") == 0 else {
            throw LoopbackSocket.SocketError(description: "make_test_certificates.sh failed")
        }
    }

    func remove() { _ = system("rm -rf '\(directory)'") }
}

/// A reference component a test needs is absent: a failure naming the setup script, never a skip.
struct MissingTestDependency: Error, CustomStringConvertible {
    var description: String
}
