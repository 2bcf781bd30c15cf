import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// A fresh temporary directory, removed (with its files) after `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/danmu-pipeline-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestSetupFailure("mkdtemp failed") }
    let path = String(cString: made)
    defer { _ = system("rm -rf '\(path)'") }
    return try body(path)
}

/// Runs `python3 -c script arguments…`; returns the exit status and what it printed (stdout and stderr).
func runPython(_ script: String, _ arguments: [String]) -> (status: Int32, output: String) {
    runProcess(["python3", "-c", script] + arguments)
}

/// Runs `argv` (looked up in PATH) to completion; returns the exit status (-1 if it did not exit) and its
/// stdout + stderr.
func runProcess(_ arguments: [String]) -> (status: Int32, output: String) {
    let outputPath = "/tmp/danmu-process-\(getpid())-\(SystemClock.monotonicNanoseconds()).out"
    defer { unlink(outputPath) }
    guard let child = spawn(arguments, output: outputPath) else { return (-1, "cannot start \(arguments[0])") }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    let output = TestFiles.read(outputPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let exited = (status & 0x7f) == 0
    return (exited ? (status >> 8) & 0xff : -1, output)
}

/// Starts `argv` with stdin from /dev/null and stdout + stderr to `output`; nil when it cannot start.
func spawn(_ arguments: [String], output: String) -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    guard posix_spawnp(&child, arguments[0], &actions, nil, argv, environ) == 0 else { return nil }
    return child
}

/// A simulator on its own reactor, stopped by `close()` (as DanmuClientTests' `SimulatorHarness`, which lives in
/// that test target).
final class PipelineSimulator {
    let reactor: Reactor
    let simulator: Simulator
    let address: SocketAddress

    init(_ configuration: Simulator.Configuration) throws {
        reactor = try Reactor()
        try reactor.start()
        simulator = Simulator(reactor: reactor, configuration: configuration)
        address = try simulator.start()
    }

    func collectorConfiguration() -> DanmuCollector.Configuration {
        var configuration = DanmuCollector.Configuration(
            server: .init(host: "127.0.0.1", port: address.port), workers: 2)
        configuration.timing.heartbeatInterval = .milliseconds(300)
        configuration.timing.watchdogTimeout = .seconds(4)
        configuration.timing.authTimeout = .seconds(3)
        configuration.timing.connectTimeout = .seconds(10)
        return configuration
    }

    func close() {
        simulator.stop()
        reactor.shutdown()
    }
}

/// A sink that keeps what it was given, and fails every write while `isDown` (a server that is down).
final class RecordingSink: Sink, @unchecked Sendable {
    let state = Lock<(records: [SinkRecord], down: Bool, writes: Int, closed: Bool)>(([], false, 0, false))
    let name = "recording"

    init(down: Bool = false) { state.withLock { $0.down = down } }

    var isDown: Bool {
        get { state.withLock { $0.down } }
        set { state.withLock { $0.down = newValue } }
    }
    var records: [SinkRecord] { state.withLock { $0.records } }

    func write(_ batch: [SinkRecord]) throws(PipelineError) {
        let down = state.withLock { s -> Bool in
            s.writes += 1
            if !s.down { s.records += batch }
            return s.down
        }
        if down { throw .unavailable("test double is down") }
    }

    func close() { state.withLock { $0.closed = true } }
}

func record(room: Int64, seq: Int) -> SinkRecord {
    SinkRecord(
        room: room, receivedAt: Int64(seq) * 1_000_000, kind: "danmaku", cmd: "DANMU_MSG", idStr: "id-\(room)-\(seq)",
        uid: Int64(seq), uname: "user\(seq)", text: "message \(seq) " + String(repeating: "x", count: seq % 50),
        json: Array("{\"room\":\(room),\"seq\":\(seq)}".utf8))
}

@discardableResult
func waitFor(timeout: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    pollUntil(timeout: timeout, interval: .milliseconds(10), condition)
}

/// A test's setup could not be made (no redis-server, no temporary directory): the test fails, it never skips.
struct TestSetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
