import EventLoop
import Glibc

/// Serialises pipe creation + spawn: Glibc's Swift module does not export pipe2, so close-on-exec is set
/// with fcntl after pipe(); holding this lock across both keeps a concurrent spawn of ours from
/// inheriting the descriptors in between.
private let spawnLock = Lock(())

/// Runs a helper binary with posix_spawn, feeding stdin and collecting stdout/stderr through pipes.
/// Pipes are close-on-exec so concurrent spawns from other threads never inherit each other's ends.
struct ChildProcess {
    struct Result {
        var exitCode: Int32
        var output: [UInt8]
        var errorOutput: [UInt8]
        var outputTruncated: Bool
    }

    static func run(path: String, arguments: [String], stdin input: [UInt8], maxOutput: Int) throws(HTTPError) -> Result
    {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawnResult: Int32 = spawnLock.withLock { _ in
            guard makePipe(&inPipe), makePipe(&outPipe), makePipe(&errPipe) else { return -1 }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            // dup2 clears close-on-exec on the target descriptor: the child keeps exactly 0, 1, 2.
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
            return argv.withUnsafeBufferPointer { buffer in
                posix_spawn(&pid, path, &actions, nil, UnsafeMutablePointer(mutating: buffer.baseAddress!), environ)
            }
        }
        if spawnResult == -1 {
            closeAll(inPipe + outPipe + errPipe)
            throw .spawnFailed("pipe: errno \(errno)")
        }
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard spawnResult == 0 else {
            closeAll([inPipe[1], outPipe[0], errPipe[0]])
            throw .spawnFailed("posix_spawn \(path): errno \(spawnResult)")
        }
        // The config is tiny (< pipe buffer), so writing it before reading cannot deadlock.
        writeAll(inPipe[1], input)
        close(inPipe[1])
        var (output, truncated) = readAll(outPipe[0], limit: maxOutput)
        if truncated { kill(pid, SIGKILL) }
        let (errorOutput, _) = readAll(errPipe[0], limit: 64 << 10)
        close(outPipe[0])
        close(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if truncated { output = [] }
        return Result(exitCode: exitCode, output: output, errorOutput: errorOutput, outputTruncated: truncated)
    }

    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }

    /// Writes with SIGPIPE blocked on this thread: if curl exits before reading its config, the write
    /// fails with EPIPE instead of killing the whole collector; the pending signal is then consumed.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        var block = sigset_t()
        var previous = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE {
                    var zero = timespec(tv_sec: 0, tv_nsec: 0)
                    _ = sigtimedwait(&block, nil, &zero)
                }
                return  // curl exited early; its exit code tells why
            }
            offset += n
        }
    }

    private static func readAll(_ fd: Int32, limit: Int) -> ([UInt8], Bool) {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { return (out, true) }
        }
        return (out, false)
    }
}
