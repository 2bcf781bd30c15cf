import Glibc
import TestSupport
import XCTest

/// How a child ended.
enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    var description: String {
        switch self {
        case .exited(let code): return "exit \(code)"
        case .signaled(let signal): return "signal \(signal)"
        }
    }
}

/// A child process started with posix_spawn, stdout and stderr captured through pipes and pumped with
/// poll(2) so neither pipe can fill up and stall the child. Always reaped: `deinit` kills a child that is
/// still running.
final class ChildProcess {
    let pid: pid_t
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    private var termination: Termination?

    /// Starts `danmu-cli` with `arguments`; stdin is /dev/null unless `stdinPath` names a file to read.
    init(_ arguments: [String], stdinPath: String? = nil, tool: String = builtToolPath()) throws {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw ChildError("pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec so a later child does not inherit these pipes and keep them open.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        // A clean signal state for the child whatever the test runner has: nothing blocked, defaults.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, tool, &actions, &attributes, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard status == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw ChildError("posix_spawn \(tool): \(String(cString: strerror(status)))")
        }
        pid = child
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
    }

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    func send(_ signal: Int32) { kill(pid, signal) }

    /// Reads output until `condition` holds or `seconds` pass; returns whether it held.
    @discardableResult
    func pump(seconds: Double, until condition: (ChildProcess) -> Bool) -> Bool {
        let deadline = now() + seconds
        while !condition(self) {
            let left = deadline - now()
            if left <= 0 { return false }
            if !pumpOnce(timeoutMilliseconds: Int32(min(left, 0.1) * 1000) + 1) && termination != nil {
                return condition(self)
            }
        }
        return true
    }

    /// Reads everything until both pipes close and the child exits, killing it after `seconds`.
    func finish(seconds: Double) -> Termination {
        let deadline = now() + seconds
        while stdoutFD >= 0 || stderrFD >= 0 {
            if now() > deadline {
                kill(pid, SIGKILL)
                XCTFail("danmu-cli did not finish within \(seconds) s; killed. stderr: \(stderrText.suffix(2000))")
                break
            }
            _ = pumpOnce(timeoutMilliseconds: 100)
        }
        if let termination { return termination }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let ended: Termination = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        termination = ended
        return ended
    }

    /// Waits up to `seconds` for the child to exit WITHOUT reading its pipes (to keep a stdout pipe full);
    /// nil if it is still running.
    func waitWithoutReading(seconds: Double) -> Termination? {
        let deadline = now() + seconds
        while now() < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let ended: Termination = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
                termination = ended
                return ended
            }
            usleep(20_000)
        }
        return nil
    }

    /// One poll round; false when nothing was readable.
    private func pumpOnce(timeoutMilliseconds: Int32) -> Bool {
        var fds: [pollfd] = []
        if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        if fds.isEmpty { return false }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if ready <= 0 { return false }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        for entry in fds where entry.revents != 0 {
            let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
            if count > 0 {
                if entry.fd == stdoutFD { stdout += chunk[0..<count] } else { stderr += chunk[0..<count] }
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                close(entry.fd)
                if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
            }
        }
        return true
    }

    private func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs to completion and returns (termination, stdout, stderr).
    static func run(_ arguments: [String], stdinPath: String? = nil, seconds: Double = 20) throws -> (
        Termination, String, String
    ) {
        let child = try ChildProcess(arguments, stdinPath: stdinPath)
        let ended = child.finish(seconds: seconds)
        return (ended, child.stdoutText, child.stderrText)
    }
}

struct ChildError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The file's text; empty when it cannot be read.
func readText(_ path: String) -> String { String(decoding: TestFiles.read(path) ?? [], as: UTF8.self) }
