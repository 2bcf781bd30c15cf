import Glibc
import TestSupport
import XCTest

/// blivedm (xfgryujk's Python client from PyPI, not our code) against `danmu-cli simulate --ws-port`:
/// `Scripts/blivedm-driver.py` patches only its room look-up and URL, and prints every danmaku its handler got.
/// Every danmaku the simulator sent must arrive, each room's `sim-<room>-<seq>-` ids 1…N in order, none extra.
/// blivedm is installed in a venv by `Scripts/ensure-blivedm.sh`; when that fails the test fails naming it.
final class BlivedmInteropTests: XCTestCase {
    private let rooms = [1, 2, 3, 7]
    private let perRoom = 40

    /// The venv's python from Scripts/ensure-blivedm.sh, or nil after recording a failure naming the script.
    private func blivedmPython() throws -> String? {
        let script = TestFiles.repositoryRoot + "/Scripts/ensure-blivedm.sh"
        let installer = try ChildProcess([script], tool: "/bin/sh")
        let ended = installer.finish(seconds: 45)
        let python = installer.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        guard ended == .exited(0), access(python, X_OK) == 0 else {
            XCTFail(
                "blivedm is not installed and Scripts/ensure-blivedm.sh could not install it (\(ended)): "
                    + installer.stderrText.suffix(1500))
            return nil
        }
        return python
    }

    /// `simulate --ws-port 0`: the ws port from its second stdout line ("ws listening on ws://HOST:PORT/sub").
    private func startSimulator() throws -> (ChildProcess, UInt16) {
        let simulator = try ChildProcess(
            [
                "simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms.max() ?? 1)", "--ws-port", "0",
                "--mix", "danmaku", "--rate", "40", "--limit", "\(perRoom)", "--summary",
            ])
        let ready = simulator.pump(seconds: 10) { $0.stdoutText.split(separator: "\n").count >= 2 }
        XCTAssertTrue(ready, "simulator did not print its addresses: \(simulator.stderrText)")
        let lines = simulator.stdoutText.split(separator: "\n").map(String.init)
        let wsLine = try XCTUnwrap(lines.first { $0.hasPrefix("ws listening on ws://") }, simulator.stdoutText)
        let digits = wsLine.split(separator: ":").last.map { $0.prefix { $0.isNumber } } ?? ""
        return (simulator, try XCTUnwrap(UInt16(digits), wsLine))
    }

    func testBlivedmReceivesEveryDanmakuTheSimulatorSentInOrder() throws {
        guard let python = try blivedmPython() else { return }
        // ChildProcess's deinit kills and reaps the simulator if a check below throws first.
        let (simulator, port) = try startSimulator()
        let driver = try ChildProcess(
            [
                TestFiles.repositoryRoot + "/Scripts/blivedm-driver.py", "--url", "ws://127.0.0.1:\(port)/sub",
                "--rooms", rooms.map(String.init).joined(separator: ","), "--count", "\(perRoom)",
                "--timeout", "35", "--wait", "1",
            ], tool: python)
        let ended = driver.finish(seconds: 45)
        XCTAssertEqual(ended, .exited(0), "blivedm driver: \(driver.stdoutText.suffix(500)) \(driver.stderrText)")
        let lines = parseJSONLines(driver.stdoutText)
        XCTAssertEqual(lines.last?["kind"] as? String, "done", driver.stdoutText.suffix(500) + driver.stderrText)
        let received = danmakuSequences(lines)
        XCTAssertEqual(Set(received.keys), Set(rooms.map(Int64.init)), "rooms blivedm heard from")
        for room in rooms {
            XCTAssertEqual(received[Int64(room)] ?? [], Array(1...perRoom), "room \(room) as blivedm received it")
        }
        // The simulator's own count of what it wrote: nothing sent that blivedm did not report.
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 15), .exited(0), simulator.stderrText)
        let summary = try XCTUnwrap(summaryObject(simulator.stderrText), simulator.stderrText)
        let sent = try XCTUnwrap(summary["sent"] as? [String: Any], simulator.stderrText)
        for room in rooms {
            XCTAssertEqual(intValue(sent["\(room)"]), received[Int64(room)]?.count, "room \(room): sent vs received")
        }
        XCTAssertEqual(intValue(summary["danmaku"]), rooms.count * perRoom, simulator.stderrText)
    }
}
