import Glibc
import TestSupport
import XCTest

/// `listen --bind-address ADDR`: bad values are a message and exit 2; an address not on this host fails only
/// the rooms on it, with the bind error reported and counted.
final class BindAddressArgumentTests: XCTestCase {
    func testBadBindAddressExitsTwoWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--bind-address", "localhost"], "--bind-address must be an IPv4 address like 10.0.0.2, got"),
            (["--bind-address", "127.0.0.2:4000"], "--bind-address must be an IPv4 address"),
            (["--bind-address", "300.1.1.1"], "--bind-address must be an IPv4 address"),
            (["--bind-address", ""], "--bind-address must be an IPv4 address"),
            (
                ["--bind-address", "127.0.0.2", "--bind-address", "127.0.0.2"],
                "--bind-address 127.0.0.2 is given twice"
            ),
            (["--bind-address"], "bind-address"),
        ]
        for (extra, message) in cases {
            let arguments = ["listen", "--server", "127.0.0.1:1", "--no-status", "7"] + extra
            let (ended, _, stderr) = try ChildProcess.run(arguments)
            XCTAssertEqual(ended, .exited(2), "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(message), "\(arguments): expected \(message) in \(stderr)")
        }
    }

    func testAbsentAddressFailsOnlyItsRooms() throws {
        let simulator = try ChildProcess(
            ["simulate", "--listen", "127.0.0.1:0", "--rooms", "2", "--rate", "20", "--duration", "4"])
        defer { _ = simulator.finish(seconds: 10) }
        XCTAssertTrue(
            simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") },
            "simulator did not print its address: \(simulator.stderrText)")
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = try XCTUnwrap(
            line.split(separator: ":").last.flatMap { UInt16(String($0.prefix { $0.isNumber })) }, "no port in \(line)")
        // Room 2 (2 mod 2 = 0) connects from 127.0.0.2; room 1 from 192.0.2.1 (TEST-NET-1, on no host), which
        // bind(2) refuses before any packet is sent.
        let (ended, stdout, stderr) = try ChildProcess.run(
            [
                "listen", "--server", "127.0.0.1:\(port)", "--bind-address", "127.0.0.2", "--bind-address",
                "192.0.2.1", "--format", "jsonl", "--no-status", "--summary", "--duration", "2", "1", "2",
            ])
        XCTAssertEqual(ended, .exited(0), stderr)
        XCTAssertTrue(stderr.contains("room 1: connect failed: bind(192.0.2.1:0): EADDRNOTAVAIL"), stderr)
        XCTAssertFalse(stderr.contains("room 2:"), stderr)
        XCTAssertTrue(stderr.contains(#""connected":1"#), stderr)
        XCTAssertFalse(stderr.contains(#""errors":0"#), stderr)
        let lines = stdout.split(separator: "\n")
        XCTAssertGreaterThan(lines.count { $0.hasPrefix(#"{"room":2,"#) }, 0, stdout.suffix(500).description)
        XCTAssertEqual(lines.count { $0.hasPrefix(#"{"room":1,"#) }, 0)
    }
}
