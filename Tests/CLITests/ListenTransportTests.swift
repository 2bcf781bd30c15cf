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
        let simulator = try startSimulator(
            rooms: rooms, certificates: certificates, extra: ["--rate", "20", "--duration", "2", "--mix", "danmaku"])
        let port = transport == "ws" ? simulator.ws : simulator.wss
        var arguments = [
            "listen", "--server", "localhost:\(port)", "--transport", transport, "--format", "jsonl", "--summary",
        ]
        if transport == "wss" { arguments += ["--ca-file", certificates + "/ca.pem"] }
        let listener = try ChildProcess(arguments + (1...rooms).map(String.init))
        XCTAssertEqual(simulator.process.finish(seconds: 30), .exited(0), simulator.process.stderrText)
        guard let summary = summaryObject(simulator.process.stderrText), let sent = summary["sent"] as? [String: Any]
        else { return XCTFail("no simulator summary: \(simulator.process.stderrText)") }
        var totals: [Int64: Int] = [:]
        for (room, count) in sent { if let id = Int64(room), let n = intValue(count) { totals[id] = n } }
        let expected = totals.values.reduce(0, +)
        XCTAssertEqual(totals.count, rooms)
        let caughtUp = listener.pump(seconds: 30) { child in
            child.stdout.split(separator: 10).count { $0.starts(with: Array(#"{"room":"#.utf8)) } >= expected
        }
        XCTAssertTrue(caughtUp, "listener wrote fewer than the \(expected) sent: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)
        let received = danmakuSequences(parseJSONLines(listener.stdoutText))
        for (room, count) in totals {
            XCTAssertEqual(received[room] ?? [], Array(1...max(count, 1)), "room \(room) over \(transport)")
        }
        let listenSummary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        // The simulator stops first (--duration), so each room ends "closed by the server"; nothing else may fail.
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
