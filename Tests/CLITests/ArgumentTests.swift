import TestSupport
import XCTest

/// Runs the built binary with good and bad command lines: help/version exit 0 on stdout, every bad argument
/// exits 2 with a message naming the problem and the usage on stderr.
final class ArgumentTests: XCTestCase {
    func testHelpAndVersionExitZero() throws {
        let (ended, out, _) = try ChildProcess.run(["--help"])
        XCTAssertEqual(ended, .exited(0))
        for command in ["listen", "decode", "simulate", "demo"] { XCTAssertTrue(out.contains(command), command) }

        let (versionEnded, version, _) = try ChildProcess.run(["--version"])
        XCTAssertEqual(versionEnded, .exited(0))
        XCTAssertTrue(version.hasPrefix("danmu-cli "), version)

        for command in ["listen", "decode", "simulate", "demo"] {
            let (helpEnded, help, _) = try ChildProcess.run([command, "--help"])
            XCTAssertEqual(helpEnded, .exited(0), command)
            XCTAssertTrue(help.contains("usage: danmu-cli \(command)"), help)
            XCTAssertTrue(help.contains("--help"), help)
            let (helpCommandEnded, viaHelp, _) = try ChildProcess.run(["help", command])
            XCTAssertEqual(helpCommandEnded, .exited(0))
            XCTAssertEqual(viaHelp, help)
        }
    }

    /// Each case: arguments and a fragment the error message must contain.
    func testBadArgumentsExitTwoWithMessageAndUsage() throws {
        let cases: [([String], String)] = [
            ([], "missing command"),
            (["frobnicate"], "unknown command frobnicate"),
            (["--nope"], "unknown option --nope"),
            (["listen"], "no rooms given"),
            (["listen", "1", "--protover", "4"], "--protover must be 2 or 3, got 4"),
            (["listen", "1", "--protover=1"], "--protover must be 2 or 3, got 1"),
            (["listen", "1", "--formt", "x"], "unknown option --formt (did you mean --format?)"),
            (["listen", "1", "--format", "xml"], "--format must be text or jsonl, got xml"),
            (["listen", "abc"], "room id must be a positive integer, got abc"),
            (["listen", "0"], "room id must be a positive integer, got 0"),
            (["listen", "1", "--server", "localhost"], "--server must be HOST:PORT"),
            (["listen", "1", "--server", "127.0.0.1:99999"], "--server port must be"),
            (["listen", "1", "--events", "danmaku,bogus"], "unknown kind bogus"),
            (["listen", "1", "--duration", "-3"], "--duration must be a positive number of seconds, got -3"),
            (["listen", "1", "--workers", "0"], "--workers must be an integer from 1 to 256, got 0"),
            (["listen", "1", "--rotate", "10M"], "--rotate needs --output FILE"),
            (["listen", "1", "--output", "/tmp/x", "--rotate", "weekly"], "--rotate must be a size"),
            (["listen", "1", "--duration"], "--duration needs a value"),
            (["listen", "1", "--summary=yes"], "--summary takes no value"),
            (["listen", "--rooms-file", "/nonexistent/rooms.txt"], "cannot open /nonexistent/rooms.txt"),
            (["listen", "1", "--transport", "quic"], "--transport must be tcp, ws, wss or auto, got quic"),
            (["listen", "1", "--ca-file", "/tmp/ca.pem"], "--ca-file applies to --transport wss or auto only"),
            (["listen", "1", "--transport", "ws", "--insecure"], "--insecure applies to --transport wss or auto only"),
            (["listen", "1", "--transport", "wss", "--ca-file", "/nonexistent/ca.pem"], "--ca-file: cannot read"),
            (
                ["listen", "1", "--transport", "wss", "--ca-file", "/x.pem", "--insecure"],
                "--ca-file and --insecure contradict each other"
            ),
            (["listen", "1", "--wss-port", "443"], "--wss-port applies to --server with --transport auto only"),
            (["simulate", "--listen", "127.0.0.1:0", "--wss-port", "0"], "--wss-port needs --tls-cert FILE"),
            (["simulate", "--listen", "127.0.0.1:0", "--tls-key", "k.pem"], "apply to --wss-port only"),
            (["decode", "a", "b"], "at most one FILE"),
            (["simulate"], "--listen HOST:PORT is required"),
            (
                ["simulate", "--listen", "127.0.0.1:0", "--compression", "lzma"],
                "--compression must be auto, none, zlib or brotli, got lzma"
            ),
            (["demo", "--rooms", "0"], "--rooms must be an integer from 1"),
        ]
        for (arguments, fragment) in cases {
            let (ended, out, err) = try ChildProcess.run(arguments)
            XCTAssertEqual(ended, .exited(2), "\(arguments): \(err)")
            XCTAssertTrue(err.contains(fragment), "\(arguments): expected \(fragment) in: \(err)")
            XCTAssertTrue(err.contains("usage: danmu-cli"), "\(arguments): no usage in: \(err)")
            XCTAssertEqual(out, "", "\(arguments): nothing on stdout")
        }
    }

    func testRoomsFileCommentsAndBadLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("rooms.txt", "# my rooms\n1\n  2  # second\n\nx3\n")
        let (ended, _, err) = try ChildProcess.run(["listen", "--rooms-file", directory.file("rooms.txt")])
        XCTAssertEqual(ended, .exited(2))
        XCTAssertTrue(err.contains("rooms.txt:5: room id must be a positive integer, got x3"), err)
    }

    func testDoubleDashEndsOptions() throws {
        // After `--`, "--summary" is a positional and so an invalid room id, not the flag.
        let (ended, _, err) = try ChildProcess.run(["listen", "1", "--", "--summary"])
        XCTAssertEqual(ended, .exited(2))
        XCTAssertTrue(err.contains("room id must be a positive integer, got --summary"), err)
    }
}
