import Glibc
import TestSupport
import XCTest

/// `danmu-cli listen --http`: the realtime server in the CLI, against `danmu-cli simulate` in another process,
/// read with curl; and the usage errors of --http / --http-token-file (exit 2).
final class ListenHTTPTests: XCTestCase {
    private func curl(_ arguments: [String]) throws -> (Termination, String) {
        let child = try ChildProcess(["-sS", "-i", "--max-time", "10"] + arguments, tool: "/usr/bin/curl")
        let ended = child.finish(seconds: 20)
        return (ended, child.stdoutText + child.stderrText)
    }

    func testListenServesHTTPPrintsTheURLAndExitsZeroOnSIGINT() throws {
        let simulator = try ChildProcess(["simulate", "--listen", "127.0.0.1:0", "--rooms", "5", "--rate", "20"])
        XCTAssertTrue(simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }, simulator.stderrText)
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0.filter(\.isNumber)) }, line)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("token", "cli-token-123\nignored second line\n")

        let listen = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(port)", "--http", "127.0.0.1:0", "--http-token-file",
            directory.file("token"), "--format", "jsonl", "--no-status", "1", "2",
        ])
        XCTAssertTrue(listen.pump(seconds: 15) { $0.stderrText.contains("serving http://") }, listen.stderrText)
        let stderr = listen.stderrText
        let start = try XCTUnwrap(stderr.range(of: "serving ")).upperBound
        let url = String(stderr[start...].prefix { $0 != "\n" })
        XCTAssertTrue(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/"), url)

        let (healthEnded, health) = try curl([url + "healthz"])
        XCTAssertEqual(healthEnded, .exited(0), health)
        XCTAssertTrue(health.hasPrefix("HTTP/1.1 200 OK"), health)
        XCTAssertTrue(health.contains(#""status":"ok""#), health)

        let (_, added) = try curl(["-X", "POST", "-H", "Authorization: Bearer cli-token-123", url + "rooms/3"])
        XCTAssertTrue(added.hasPrefix("HTTP/1.1 201 Created"), added)
        let (_, refused) = try curl(["-X", "POST", "-H", "Authorization: Bearer ignored second line", url + "rooms/4"])
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 401 "), refused)

        // The page and an event stream come from the same process.
        let (_, page) = try curl([url])
        XCTAssertTrue(page.hasPrefix("HTTP/1.1 200 OK") && page.contains("<html"), String(page.prefix(300)))
        let stream = try ChildProcess(["-sS", "-N", "--max-time", "2", url + "events?rooms=3"], tool: "/usr/bin/curl")
        _ = stream.finish(seconds: 10)
        XCTAssertTrue(stream.stdoutText.contains("\nid: "), stream.stdoutText + stream.stderrText)

        listen.send(SIGINT)
        XCTAssertEqual(listen.finish(seconds: 20), .exited(0), listen.stderrText)
        XCTAssertTrue(listen.stdoutText.contains(#""room":3"#), "room 3 added over HTTP was collected")
        simulator.send(SIGINT)
        _ = simulator.finish(seconds: 10)
    }

    func testBadHTTPOptionsExitTwoWithAMessage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("empty", "\n")
        let cases: [([String], String)] = [
            (["--http", "nonsense"], "--http must be PORT or HOST:PORT"),
            (["--http", "127.0.0.1:99999"], "--http port must be"),
            (["--http", "0", "--http-token-file", directory.file("missing")], "--http-token-file:"),
            (["--http", "0", "--http-token-file", directory.file("empty")], "is empty"),
            (["--http-token-file", directory.file("empty")], "--http-token-file needs --http"),
        ]
        for (arguments, message) in cases {
            let (ended, _, stderr) = try ChildProcess.run(
                ["listen", "--server", "127.0.0.1:9", "1"] + arguments, seconds: 10)
            XCTAssertEqual(ended, .exited(2), "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(message), "\(arguments): \(stderr)")
        }
    }
}
