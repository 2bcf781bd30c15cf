import Glibc

/// A child process started with posix_spawn, its stdout read through a pipe. The benchmarks run the simulator this way
/// (this same executable, `serve-simulator` sub-command) so that client and server CPU are measured apart.
final class ChildProcess {
    let pid: pid_t
    /// The read end of the child's stdout (scenarios that stream it read it directly, see CLIPathBenchmark).
    let stdoutFD: Int32
    private var buffered: [UInt8] = []
    private var reaped = false

    /// Starts `/proc/self/exe` with `arguments` (argv[1...]).
    convenience init(selfWith arguments: [String]) throws(ChildProcessError) {
        try self.init(executable: "/proc/self/exe", arguments: arguments)
    }

    /// Starts `executable` (a path) with `arguments` (argv[1...]); stdin and stderr are inherited.
    init(executable: String, arguments: [String]) throws(ChildProcessError) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw ChildProcessError(message: "pipe2 failed: errno \(errno)") }
        // Close-on-exec on both ends: the child gets the write end only as its fd 1 (dup2 clears the flag there).
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var childPID: pid_t = 0
        let status = posix_spawn(&childPID, executable, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard status == 0 else {
            close(pipeFDs[0])
            throw ChildProcessError(message: "posix_spawn failed: errno \(status)")
        }
        pid = childPID
        stdoutFD = pipeFDs[0]
    }

    /// Reads one line of the child's stdout (blocking); nil at end of file.
    func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(stdoutFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            buffered.append(contentsOf: chunk[0..<n])
        }
    }

    /// Sends SIGTERM and waits for the child; returns its exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard !reaped else { return 0 }
        kill(pid, SIGTERM)
        return wait()
    }

    @discardableResult
    func wait() -> Int32 {
        guard !reaped else { return 0 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        close(stdoutFD)
        return status
    }

    deinit {
        if !reaped { terminate() }
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
