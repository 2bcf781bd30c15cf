import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// Runs `python3 -c script arguments…`; returns the exit status and what it printed (stdout and stderr).
func runPython(_ script: String, _ arguments: [String]) -> (status: Int32, output: String) {
    runProcess(["python3", "-c", script] + arguments)
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
