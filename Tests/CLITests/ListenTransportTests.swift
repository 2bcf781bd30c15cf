import Foundation
import TestSupport
import XCTest

/// `danmu-cli listen --transport ws|wss` against `danmu-cli simulate --ws-port/--wss-port` in another process:
/// every room's sequence complete and in order, the summary naming the transport; `--insecure` warns once.
final class ListenTransportTests: XCTestCase {
    private struct Simulator {
        let process: ChildProcess
        let tcp: UInt16
        let ws: UInt16
        let wss: UInt16
    }

    /// A test CA and a localhost certificate from Scripts/make_test_certificates.sh (openssl CLI).
    private func makeCertificates(_ directory: TemporaryDirectory) throws -> String {
        let script = TestFiles.repositoryRoot + "/Scripts/make_test_certificates.sh"
        XCTAssertEqual(system("'\(script)' '\(directory.path)' >/dev/null"), 0)
        return directory.path
    }

    private func startSimulator(rooms: Int, certificates: String, extra: [String]) throws -> Simulator {
        let process = try ChildProcess(
            [
                "simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms)", "--summary", "--ws-port", "0",
                "--wss-port", "0", "--tls-cert", certificates + "/server.pem", "--tls-key",
                certificates + "/server.key",
            ] + extra)
        let ready = process.pump(seconds: 10) { $0.stdoutText.split(separator: "\n").count >= 3 }
        XCTAssertTrue(ready, "simulator did not print its addresses: \(process.stderrText)")
        let lines = process.stdoutText.split(separator: "\n").map(String.init)
        func port(_ line: String) -> UInt16? {
            let afterColon = line.split(separator: ":").last.map(String.init) ?? ""
            return UInt16(afterColon.prefix { $0.isNumber })
        }
        return Simulator(
            process: process, tcp: try XCTUnwrap(port(lines[0])), ws: try XCTUnwrap(port(lines[1])),
            wss: try XCTUnwrap(port(lines[2])))
    }

    private func run(transport: String, rooms: Int = 20) throws {
        guard system("command -v openssl >/dev/null 2>&1") == 0 else {
            return XCTFail("the openssl CLI is not installed: run Scripts/ensure-test-deps.sh")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try makeCertificates(directory)
        // A fixed number per room (--limit), not a duration: under ThreadSanitizer the listener is slower than
        // the simulator, and a simulator that stops on a timer closes connections with messages still queued.
        let perRoom = 40
        let simulator = try startSimulator(
            rooms: rooms, certificates: certificates,
            extra: ["--rate", "20", "--limit", "\(perRoom)", "--mix", "danmaku"])
        defer {
            simulator.process.send(SIGTERM)
            _ = simulator.process.finish(seconds: 15)
        }
        let port = transport == "ws" ? simulator.ws : simulator.wss
        var arguments = [
            "listen", "--server", "localhost:\(port)", "--transport", transport, "--format", "jsonl", "--summary",
        ]
        if transport == "wss" { arguments += ["--ca-file", certificates + "/ca.pem"] }
        let listener = try ChildProcess(arguments + (1...rooms).map(String.init))
        var totals: [Int64: Int] = [:]
        for room in 1...rooms { totals[Int64(room)] = perRoom }
        let expected = rooms * perRoom
        let danmakuLine = Array(#""kind":"danmaku""#.utf8)
        let caughtUp = listener.pump(seconds: 60) { child in
            child.stdout.split(separator: 10).count { $0.firstRange(of: danmakuLine) != nil } >= expected
        }
        XCTAssertTrue(caughtUp, "listener wrote fewer than the \(expected) sent: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        let received = danmakuSequences(parseJSONLines(listener.stdoutText))
        for (room, count) in totals {
            XCTAssertEqual(received[room] ?? [], Array(1...max(count, 1)), "room \(room) over \(transport)")
        }
        let listenSummary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        // The listener stops first (SIGTERM); nothing may fail on the way.
        XCTAssertEqual(intValue(listenSummary["transport_errors"]), 0, listener.stderrText)
        XCTAssertEqual(intValue(listenSummary["protocol_errors"]), 0, listener.stderrText)
        XCTAssertEqual((listenSummary["transports"] as? [String: Any]).flatMap { intValue($0[transport]) }, rooms)
    }

    func testListenOverWSCompleteAndInOrder() throws { try run(transport: "ws") }

    func testListenOverWSSWithTheTestCACompleteAndInOrder() throws { try run(transport: "wss") }

    /// --insecure connects to a certificate nobody vouches for, and says so once, loudly.
    func testInsecureWarnsOnceAndConnects() throws {
        guard system("command -v openssl >/dev/null 2>&1") == 0 else {
            return XCTFail("the openssl CLI is not installed: run Scripts/ensure-test-deps.sh")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try makeCertificates(directory)
        let simulator = try startSimulator(
            rooms: 2, certificates: certificates, extra: ["--rate", "20", "--mix", "danmaku"])
        let listener = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(simulator.wss)", "--transport", "wss", "--insecure", "--format",
            "jsonl", "1", "2",
        ])
        let got = listener.pump(seconds: 20) { $0.stdout.split(separator: 10).count >= 10 }
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0))
        simulator.process.send(SIGTERM)
        _ = simulator.process.finish(seconds: 15)
        XCTAssertTrue(got, listener.stderrText)
        XCTAssertEqual(listener.stderrText.components(separatedBy: "--insecure").count - 1, 1, listener.stderrText)
        XCTAssertTrue(listener.stderrText.contains("WARNING"), listener.stderrText)
    }
}
