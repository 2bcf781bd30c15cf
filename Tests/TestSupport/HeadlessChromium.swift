import Glibc

/// Drives headless Chromium for page tests: loads a URL, waits until a JavaScript expression holds, evaluates
/// expressions and saves a PNG screenshot, through `Scripts/chromium-page-check.py` (the DevTools protocol over
/// python3's `websockets`). Chromium and the script are always killed and reaped at the end, also on a timeout.
///
/// ```swift
/// let report = try HeadlessChromium.check(
///     url: "http://127.0.0.1:\(port)/", waitFor: "danmuPage.feedLines >= 1", timeout: .seconds(5),
///     evaluate: ["danmuPage.rooms"], screenshot: "/tmp/page.png")
/// XCTAssertEqual(report.waitSatisfied, true)
/// ```
public enum HeadlessChromium {
    /// Debian's `chromium` package puts its launcher here (`Scripts/ensure-test-deps.sh` installs it).
    public static let binary = "/usr/bin/chromium"

    /// A step that could not run: Chromium or python3's websockets missing, the script failing, a timeout.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What one check found.
    public struct Report: Sendable {
        /// Whether `waitFor` became true before the timeout; nil when no expression was given.
        public var waitSatisfied: Bool?
        /// Seconds from the start of the navigation until `waitFor` held (or the timeout passed).
        public var waitSeconds: Double?
        /// Each `evaluate` expression's value as JSON text (`"3"`, `"true"`, `"\"text\""`, `"null"`), in order.
        public var values: [String]
        /// The screenshot written, when one was asked for.
        public var screenshotPath: String?
        /// The page's console messages and uncaught exceptions (JSON strings), for failure messages.
        public var console: [String]
        public var exceptions: [String]
        /// Chromium's `--user-data-dir` (removed at the end), which every Chromium process has on its command line.
        public var profileDirectory: String?
        /// Everything the script printed.
        public var output: String

        /// The value of the `index`-th `evaluate` expression when it is a string, unescaped; nil otherwise.
        public func string(_ index: Int) -> String? {
            index < values.count ? HeadlessChromium.decodeJSONString(values[index]) : nil
        }
    }

    /// The processes whose command line contains `text` (from /proc/*/cmdline), e.g. a report's
    /// `profileDirectory`: empty after `check` returned, since it kills Chromium's whole process group. Zombies
    /// (dead, not yet reaped) have an empty cmdline and are not listed.
    public static func processes(mentioning text: String) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let bytes = TestFiles.read("/proc/\(name)/cmdline") else { continue }
            let commandLine = String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if commandLine.contains(text) { found.append(pid) }
        }
        return found
    }

    /// The text of a JSON string literal (`"a\nb"` → "a", newline, "b"); nil when `json` is not one.
    public static func decodeJSONString(_ json: String) -> String? {
        var scalars = Array(json.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" else { return nil }
        scalars = Array(scalars[1..<(scalars.count - 1)])
        var text = String.UnicodeScalarView()
        var index = 0
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= scalars.count else { return nil }
            return UInt32(String(String.UnicodeScalarView(scalars[at..<(at + 4)])), radix: 16)
        }
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "\\" else {
                text.append(scalar)
                continue
            }
            guard index < scalars.count else { return nil }
            let escape = scalars[index]
            index += 1
            switch escape {
            case "\"", "\\", "/": text.append(escape)
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "b": text.append("\u{8}")
            case "f": text.append("\u{C}")
            case "u":
                guard var code = hex4(index) else { return nil }
                index += 4
                // A UTF-16 surrogate pair: \uD8xx\uDCxx.
                if (0xD800..<0xDC00).contains(code), index + 6 <= scalars.count, scalars[index] == "\\",
                    scalars[index + 1] == "u", let low = hex4(index + 2), (0xDC00..<0xE000).contains(low)
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let decoded = Unicode.Scalar(code) else { return nil }
                text.append(decoded)
            default: return nil
            }
        }
        return String(text)
    }

    /// Whether Chromium and the script's python3 modules are installed.
    public static func missingComponent() -> String? {
        if access(binary, X_OK) != 0 { return "\(binary) is missing" }
        let probe = ScriptProcess(["python3", "-c", "import websockets.sync.client"])
        guard let probe, probe.waitForExit(timeout: .seconds(20)).status == 0 else {
            return "python3 with the websockets module (websockets.sync.client) is missing"
        }
        return nil
    }

    /// Loads `url`, waits up to `timeout` for `waitFor` (a JavaScript expression, checked every 50 ms), then
    /// evaluates `evaluate` and writes a PNG of the 1280×900 viewport to `screenshot`. Throws when Chromium is
    /// missing (naming `Scripts/ensure-test-deps.sh`) or a step failed; a wait that timed out is reported in
    /// `waitSatisfied`, not thrown.
    public static func check(
        url: String, waitFor: String? = nil, timeout: Duration = .seconds(10), evaluate: [String] = [],
        screenshot: String? = nil
    ) throws(Failure) -> Report {
        if let missing = missingComponent() {
            throw Failure(description: "\(missing): run Scripts/ensure-test-deps.sh")
        }
        let seconds = Double(timeout / .milliseconds(1)) / 1000
        var arguments = [
            "python3", TestFiles.resolve("Scripts/chromium-page-check.py"), url, "--lines", "--timeout", "\(seconds)",
        ]
        if let waitFor { arguments += ["--wait-js", waitFor] }
        for expression in evaluate { arguments += ["--eval", expression] }
        if let screenshot { arguments += ["--screenshot", screenshot] }
        guard let script = ScriptProcess(arguments) else {
            throw Failure(description: "could not start python3 Scripts/chromium-page-check.py: errno \(errno)")
        }

        // The script's own bound is the timeout + 25 s (Chromium's start-up, the load, the evaluations); past
        // the timeout + 35 s it is stopped here, Chromium with it. A page test with a 15 s timeout stays < 60 s.
        let outcome = script.waitForExit(timeout: timeout + .seconds(35))
        var report = Report(values: [], console: [], exceptions: [], output: outcome.output)
        var errors: [String] = []
        for line in outcome.output.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            switch (fields.first, fields.count) {
            case ("wait", 3):
                report.waitSatisfied = fields[1] == "true"
                report.waitSeconds = Double(fields[2])
            case ("value", 3): report.values.append(fields[2])
            case ("screenshot", 2): report.screenshotPath = decodeJSONString(fields[1])
            case ("console", 2): report.console.append(fields[1])
            case ("exception", 2): report.exceptions.append(fields[1])
            case ("error", 2): errors.append(fields[1])
            case ("profile", 2): report.profileDirectory = decodeJSONString(fields[1])
            default: break
            }
        }
        guard outcome.status == 0, errors.isEmpty, report.values.count == evaluate.count else {
            let status = outcome.status.map { "exit \($0)" } ?? "killed at the timeout"
            throw Failure(description: "chromium-page-check.py \(url) failed (\(status)): \(outcome.output)")
        }
        return report
    }
}

/// A child process (`argv[0]` looked up in PATH) in a process group of its own, its stdout and stderr on one
/// pipe. `stop()`, `waitForExit` and `deinit` kill the whole group and reap the child: no leftovers.
public final class ScriptProcess {
    public let pid: pid_t
    private let output: Int32
    private var buffered: [UInt8] = []
    private var reaped = false
    private var groupKilled = false
    private var status: Int32?

    /// Starts `arguments`; nil when the pipe or posix_spawn failed (errno set).
    public init?(_ arguments: [String]) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own, so that killing -pid reaches whatever the script started in it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, arguments[0], &actions, &attributes, argv, environ)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            errno = spawned
            return nil
        }
        pid = child
        output = fds[0]
    }

    deinit {
        stop()
        close(output)
    }

    /// The next line of output (without its newline) within `timeout`; nil at end of output or timeout.
    public func readLine(timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// Waits up to `timeout` for the process to end, collecting its output; on the timeout it is stopped
    /// (SIGTERM, then SIGKILL after 3 s). `status` is the exit status, nil when it was killed or died of a signal.
    public func waitForExit(timeout: Duration) -> (status: Int32?, output: String) {
        let deadline = ContinuousClock.now + timeout
        while fill(until: deadline) {}
        // End of output comes just before the exit: give the child the rest of the time to finish on its own.
        let left = max(deadline - ContinuousClock.now, .milliseconds(100))
        let exited = pollUntil(timeout: left, interval: .milliseconds(10)) { tryReap() }
        if !exited {
            kill(-pid, SIGTERM)
            _ = pollUntil(timeout: .seconds(3), interval: .milliseconds(20)) { tryReap() }
        }
        stop()
        while fill(until: ContinuousClock.now + .milliseconds(200)) {}
        let text = String(decoding: buffered, as: UTF8.self)
        buffered.removeAll()
        return (exited ? status : nil, text + (exited ? "" : "\n[killed after \(timeout)]"))
    }

    /// Kills the process group and reaps the child (idempotent).
    public func stop() {
        if !groupKilled {
            groupKilled = true
            kill(-pid, SIGKILL)
        }
        guard !reaped else { return }
        var wait: Int32 = 0
        while waitpid(pid, &wait, 0) < 0 && errno == EINTR {}
        record(wait)
    }

    private func tryReap() -> Bool {
        if reaped { return true }
        var wait: Int32 = 0
        guard waitpid(pid, &wait, WNOHANG) == pid else { return false }
        record(wait)
        return true
    }

    private func record(_ wait: Int32) {
        reaped = true
        status = (wait & 0x7f) == 0 ? (wait >> 8) & 0xff : nil
    }

    // Reads what is available before `deadline`; false at end of output or when the deadline passed.
    private func fill(until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var entry = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left / .milliseconds(1), 500)) + 1)
            if ready < 0 && errno != EINTR { return false }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = read(output, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            buffered += chunk[0..<n]
            return true
        }
    }
}
