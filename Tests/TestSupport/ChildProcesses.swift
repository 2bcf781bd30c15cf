import EventLoop
import Glibc

/// A test's setup could not be made (no redis-server, no temporary directory): the test fails, it never skips.
public struct TestSetupFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Starts `arguments` (the program looked up in PATH) with stdin from /dev/null and stdout + stderr to `output`
/// (appended to, or truncated first); nil when it cannot start.
public func spawnProcess(_ arguments: [String], output: String, truncate: Bool = false) -> pid_t? {
    precondition(!arguments.isEmpty)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND), 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    guard posix_spawnp(&child, arguments[0], &actions, nil, argv, environ) == 0 else { return nil }
    return child
}

/// Runs `arguments` (looked up in PATH) with stdin from /dev/null to completion, killing it after `timeout`.
/// Returns the exit status (-1 if it did not exit normally) and its stdout + stderr.
public func runProcess(_ arguments: [String], timeout: Duration = .seconds(60)) -> (status: Int32, output: String) {
    let outputPath = "/tmp/danmu-process-\(getpid())-\(SystemClock.monotonicNanoseconds()).out"
    defer { unlink(outputPath) }
    guard let child = spawnProcess(arguments, output: outputPath) else { return (-1, "cannot start \(arguments[0])") }
    var status: Int32 = 0
    let deadline = SystemClock.monotonicNanoseconds() &+ timeout.nanoseconds
    var killed = false
    while true {
        let result = waitpid(child, &status, WNOHANG)
        if result == child { break }
        if result < 0 && errno != EINTR { break }
        if SystemClock.monotonicNanoseconds() > deadline {
            // A hung child must fail its test with what it printed, not hang the suite.
            kill(child, SIGKILL)
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            killed = true
            break
        }
        usleep(5_000)
    }
    var output = TestFiles.read(outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    if killed { return (-1, output + "\n[killed after \(timeout)]") }
    let exited = (status & 0x7f) == 0
    if !exited { output += "\n[died of signal \(status & 0x7f)]" }
    return (exited ? (status >> 8) & 0xff : -1, output)
}

/// A fresh directory under /tmp, removed with its files by `remove()`. Creating it throws when mkdtemp fails:
/// there is no fallback directory, so `remove()` can only ever delete what lives in the directory made here.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// A new directory `/tmp/<prefix>-XXXXXX`.
    public init(prefix: String = "danmu-test") throws(TestSetupFailure) {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else {
            throw TestSetupFailure("mkdtemp /tmp/\(prefix)-XXXXXX: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` (created or truncated).
    public func write(_ name: String, _ text: String) {
        let fd = open(file(name), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    /// The names in the directory, hidden ones included.
    public func list() -> [String] { TestFiles.list(path, includingHidden: true) }

    /// Removes the directory and everything below it.
    public func remove() {
        // `rm -rf` of a path mkdtemp just made (no user input): subdirectories a test made go too.
        precondition(path.hasPrefix("/tmp/") && !path.contains("'"))
        _ = system("rm -rf '\(path)'")
    }
}

/// Runs `body` with a fresh temporary directory, removed (with its files) afterwards.
public func withTemporaryDirectory<T>(prefix: String = "danmu-test", _ body: (String) throws -> T) throws -> T {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { directory.remove() }
    return try body(directory.path)
}

/// A loopback TCP port the kernel just handed out for an ephemeral bind (then released), for servers a test starts.
public func freeLoopbackPort() -> UInt16 {
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
