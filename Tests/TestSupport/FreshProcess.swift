import Glibc

/// Runs one XCTest case again in a fresh test-runner process (`/proc/self/exe <Target.Class/testMethod>`) with
/// `marker=1` in its environment, for measurements that the other suites' leftovers in this process would
/// distort (freed heap pages that stay resident). The case checks `isFreshProcess(marker)` to do the work there.
public enum FreshProcess {
    public struct Outcome: Sendable {
        /// The exit status, or nil when the child was killed at the timeout or by a signal.
        public var exitStatus: Int32?
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// True inside the child started by `run(test:marker:timeout:)`.
    public static func isFreshProcess(_ marker: String) -> Bool { getenv(marker) != nil }

    /// Runs `test` ("Target.Class/testMethod") in a new runner process; kills it after `timeout`.
    public static func run(test: String, marker: String, timeout: Duration) -> Outcome {
        var exe = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard count > 0 else { return Outcome(exitStatus: nil, output: "readlink /proc/self/exe failed") }
        let runner = String(decoding: exe[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return Outcome(exitStatus: nil, output: "pipe failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(runner), strdup(test), nil]
        defer { argv.forEach { free($0) } }
        // No Swift backtracer in the child: a child that is meant to trap must die of its signal, and under
        // ThreadSanitizer the backtracer's thread suspension trips a TSan CHECK that turns the death into
        // `exit(66)` on some runs (testLoopConfinedCallFromAnotherThreadTraps failed that way in CI).
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup(marker + "=1"), strdup("SWIFT_BACKTRACE=enable=no")]
        var entry = environ
        while let variable = entry.pointee {
            if strncmp(variable, "SWIFT_BACKTRACE=", 16) != 0 { environment.append(strdup(variable)) }
            entry += 1
        }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, runner, &actions, nil, argv, environment)
        close(fds[1])
        defer { close(fds[0]) }
        guard status == 0 else {
            return Outcome(exitStatus: nil, output: "posix_spawn \(runner): \(String(cString: strerror(status)))")
        }
        var output: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero {
                kill(child, SIGKILL)
                killed = true
                break
            }
            var poller = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left / .milliseconds(1), 500)) + 1)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(fds[0], &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        var wait: Int32 = 0
        while waitpid(child, &wait, 0) < 0 && errno == EINTR {}
        let exited = (wait & 0x7f) == 0
        let text = String(decoding: output, as: UTF8.self) + (killed ? "\n[killed after \(timeout)]" : "")
        return Outcome(exitStatus: exited && !killed ? (wait >> 8) & 0xff : nil, output: text)
    }
}
