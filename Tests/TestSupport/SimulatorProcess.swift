import Glibc

/// The built `danmu-cli` next to the running test bundle: `/proc/self/exe` is the xctest runner in the build
/// directory (`.build/<triple>/debug/danmuPackageTests.xctest`), and SwiftPM builds the executable beside it
/// because CLITests depends on the danmu-cli target. Falls back to `<root>/.build/debug/danmu-cli`.
public func builtToolPath(_ name: String = "danmu-cli") -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if count > 0 {
        var directory = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = directory.lastIndex(of: "/") {
            directory = String(directory[..<slash])
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
            if directory.hasSuffix("/.build") || directory.isEmpty { break }
        }
    }
    return TestFiles.repositoryRoot + "/.build/debug/" + name
}

/// `danmu-cli simulate --listen 127.0.0.1:0 …` in its own process, so that what it allocates is not in the
/// test process's memory. Ready once it printed "listening on HOST:PORT"; SIGKILLed and reaped by `stop()`
/// or `deinit`. Its stderr goes to /dev/null.
public final class SimulatorProcess {
    public let pid: pid_t
    public let port: UInt16
    private var reaped = false

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts the simulator with `arguments` after `simulate --listen 127.0.0.1:0`; waits up to `timeout` for
    /// its address line.
    public init(_ arguments: [String], timeout: Duration = .seconds(20)) throws(Failure) {
        let tool = builtToolPath()
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        // Close-on-exec so no later child inherits the pipe (the spawned one gets it through dup2).
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([tool, "simulate", "--listen", "127.0.0.1:0"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, tool, &actions, nil, argv, environ)
        close(pipeFDs[1])
        guard status == 0 else {
            close(pipeFDs[0])
            throw Failure(description: "posix_spawn \(tool): \(String(cString: strerror(status)))")
        }
        pid = child
        defer { close(pipeFDs[0]) }
        // Read stdout up to the first newline, within the deadline.
        var line: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while !line.contains(10) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var entry = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(left / .milliseconds(1), 1_000)) + 1
            guard poll(&entry, 1, milliseconds) >= 0 || errno == EINTR else { break }
            if entry.revents == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 512)
            let n = read(pipeFDs[0], &chunk, chunk.count)
            if n <= 0 { break }
            line += chunk[0..<n]
        }
        let text = String(decoding: line.prefix { $0 != 10 }, as: UTF8.self)
        guard text.hasPrefix("listening on "), let found = text.split(separator: ":").last.flatMap({ UInt16($0) })
        else {
            kill(child, SIGKILL)
            var ignored: Int32 = 0
            waitpid(child, &ignored, 0)
            reaped = true
            throw Failure(description: "\(tool) simulate did not print its address (got \"\(text)\")")
        }
        port = found
    }

    deinit { stop() }

    /// Resident memory of the simulator process in bytes (/proc/PID/statm); -1 when unreadable.
    public var residentBytes: Int { TestSupport.residentBytes(ofProcess: "\(pid)") }

    /// Kills and reaps the process (idempotent).
    public func stop() {
        guard !reaped else { return }
        reaped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

/// Resident memory in bytes of `process` ("self" or a pid): /proc/<process>/statm's second field × page size;
/// -1 when unreadable.
public func residentBytes(ofProcess process: String = "self") -> Int {
    guard let bytes = TestFiles.read("/proc/\(process)/statm") else { return -1 }
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
