import Foundation
import TestSupport
import XCTest

/// `danmu-cli listen --sink …` through the built binary against `danmu-cli simulate`: the SQLite and JSON Lines
/// sinks get every danmaku the simulator sent, once, in order per room (read back with Python's sqlite3 and
/// by parsing the file); bad sink specs and unopenable paths are exit 2 with a clear message.
final class ListenSinkTests: XCTestCase {
    /// As `ListenTests.startSimulator` (XCTest on Linux cannot make a second test case instance to share it).
    private func startSimulator(_ extra: [String], rooms: Int) throws -> (ChildProcess, UInt16) {
        let simulator = try ChildProcess(
            ["simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms)", "--summary"] + extra)
        XCTAssertTrue(simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }, simulator.stderrText)
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = line.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespaces)) }
        return (simulator, try XCTUnwrap(port, "no port in \(line)"))
    }

    private func sentTotals(_ stderr: String) -> [Int64: Int] {
        guard let summary = summaryObject(stderr), let sent = summary["sent"] as? [String: Any] else { return [:] }
        var totals: [Int64: Int] = [:]
        for (room, count) in sent { if let id = Int64(room), let n = intValue(count) { totals[id] = n } }
        return totals
    }

    func testListenIntoSQLiteAndJSONLinesSinks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rooms = 10
        let (simulator, port) = try startSimulator(["--rate", "20", "--duration", "2"], rooms: rooms)
        let db = directory.file("danmu.db")
        let jsonl = directory.file("danmu.jsonl")
        let listener = try ChildProcess(
            [
                "listen", "--server", "127.0.0.1:\(port)", "--summary", "--no-status",
                "--sink", "sqlite:\(db)", "--sink", "jsonl:\(jsonl)", "--filter", "kind=danmaku", "--dedupe",
            ] + (1...rooms).map(String.init))
        XCTAssertEqual(simulator.finish(seconds: 30), .exited(0), simulator.stderrText)
        let sent = sentTotals(simulator.stderrText)
        let expected = sent.values.reduce(0, +)
        XCTAssertGreaterThan(expected, 0)
        let caughtUp = listener.pump(seconds: 30) { _ in
            (try? String(contentsOfFile: jsonl, encoding: .utf8))?.split(separator: "\n").count ?? 0 >= expected
        }
        XCTAssertTrue(caughtUp, "the jsonl sink has fewer lines than the \(expected) danmaku sent")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 20), .exited(0), listener.stderrText)
        XCTAssertTrue(listener.stdoutText.isEmpty, "with --sink and no --output, nothing goes to stdout")

        let lines = parseJSONLines(try String(contentsOfFile: jsonl, encoding: .utf8))
        XCTAssertTrue(lines.allSatisfy { ($0["kind"] as? String) == "danmaku" }, "--filter kind=danmaku")
        let fromFile = danmakuSequences(lines)
        for (room, count) in sent {
            XCTAssertEqual(fromFile[room] ?? [], Array(1...count), "jsonl room \(room)")
        }

        // ChildProcess, not Foundation's Process: Process starts dispatch threads that leave SIGUSR1 unblocked,
        // and a later test in the same process (RegressionTests' signalfd test) raises SIGUSR1.
        let script = """
            import sqlite3, sys, json, collections
            seqs = collections.defaultdict(list)
            for room, id_str in sqlite3.connect(sys.argv[1]).execute("SELECT room, id_str FROM events ORDER BY id"):
                seqs[room].append(int(id_str.split("-")[2]))
            print(json.dumps(seqs))
            """
        let python = try ChildProcess(["-c", script, db], tool: "/usr/bin/python3")
        XCTAssertEqual(python.finish(seconds: 30), .exited(0), python.stderrText)
        let output = Data(python.stdout)
        let fromDB = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: [Int]])
        for (room, count) in sent {
            XCTAssertEqual(fromDB["\(room)"] ?? [], Array(1...count), "sqlite room \(room)")
        }

        let summary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        let sinks = try XCTUnwrap(summary["sinks"] as? [[String: Any]])
        XCTAssertEqual(sinks.count, 2)
        for sink in sinks {
            XCTAssertEqual(intValue(sink["written"] as Any), expected, "\(sink)")
            XCTAssertEqual(intValue(sink["failures"] as Any), 0)
            XCTAssertEqual(intValue(sink["backlog_bytes"] as Any), 0)
        }
    }

    func testBadSinkSpecsAndPathsExitTwoAtStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        directory.write("short.key", "tooshort")
        for (arguments, message) in [
            (["--sink", "mongodb://x"], "--sink must be jsonl:PATH, sqlite:PATH or redis://"),
            (["--sink", "sqlite:/nonexistent-dir/x.db"], "/nonexistent-dir/x.db"),
            (["--sink", "jsonl:/nonexistent-dir/x.jsonl"], "/nonexistent-dir/x.jsonl"),
            (["--sink", "redis://example.com"], "IPv4"),
            (["--sink", "redis://127.0.0.1?maxlen=x"], "maxlen"),
            (["--sink", "jsonl:\(directory.file("a"))", "--filter", "colour=red"], "--filter key"),
            (["--dedupe"], "give at least one --sink"),
            (
                ["--sink", "jsonl:\(directory.file("b"))", "--anonymize-key-file", directory.file("short.key")],
                "at least 16 bytes"
            ),
        ] {
            let (ended, _, stderr) = try ChildProcess.run(["listen", "--server", "127.0.0.1:1", "1"] + arguments)
            XCTAssertEqual(ended, Termination.exited(2), "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(message), "\(arguments): \(stderr)")
        }
    }

    /// Redis is down: the backlog fills on disk; `danmu-cli` is SIGKILLed with it non-empty; Redis comes up and a
    /// second run with the same --spool-dir replays it first: per room the stream holds 1, 2, 3, … from the first
    /// run (nothing lost from the backlog), strictly increasing (nothing twice, order kept), the backlog drained.
    func testSIGKILLWithBacklogThenRestartReplaysIt() throws {
        func sh(_ command: String) throws -> (Termination, String) {
            let child = try ChildProcess(["-c", command], tool: "/bin/sh")
            let ended = child.finish(seconds: 30)
            return (ended, child.stdoutText + child.stderrText)
        }
        guard try sh("command -v redis-server && command -v redis-cli").0 == .exited(0) else {
            return XCTFail("redis-server / redis-cli are not installed: run Scripts/ensure-test-deps.sh")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A port the kernel hands out for an ephemeral bind, then released: free, unlike a guessed number.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(probe, $0, length)
                _ = getsockname(probe, $0, &length)
            }
        }
        close(probe)
        let redisPort = Int(UInt16(bigEndian: address.sin_port))
        let rooms = 5
        let (simulator, port) = try startSimulator(["--rate", "20", "--duration", "60"], rooms: rooms)
        defer { simulator.send(SIGTERM); _ = simulator.finish(seconds: 10) }
        let arguments =
            [
                "listen", "--server", "127.0.0.1:\(port)", "--no-status", "--spool-dir", directory.path,
                "--sink", "redis://127.0.0.1:\(redisPort)?stream=all&maxlen=0",
            ] + (1...rooms).map(String.init)
        let spool = directory.path + "/danmu-redis-127.0.0.1-\(redisPort)-0.spool"
        func spoolBytes() -> Int {
            var info = stat()
            return stat(spool, &info) == 0 ? Int(info.st_size) : 0
        }
        let first = try ChildProcess(arguments)
        XCTAssertTrue(first.pump(seconds: 30) { _ in spoolBytes() > 20_000 }, "no backlog: \(first.stderrText)")
        first.send(SIGKILL)
        XCTAssertEqual(first.finish(seconds: 10), .signaled(SIGKILL))
        XCTAssertGreaterThan(spoolBytes(), 20_000)

        let redis = try ChildProcess(
            [
                "--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                directory.path,
            ], tool: "/usr/bin/redis-server")
        defer {
            redis.send(SIGTERM)
            _ = redis.finish(seconds: 10)
        }
        var ready = false
        for _ in 0..<200 where !ready {
            ready = try sh("redis-cli -p \(redisPort) ping").1.contains("PONG")
            if !ready { usleep(20_000) }
        }
        XCTAssertTrue(ready, "redis-server did not answer on \(redisPort): \(redis.stdoutText)")
        let second = try ChildProcess(arguments + ["--duration", "3", "--summary"])
        XCTAssertEqual(second.finish(seconds: 30), .exited(0), second.stderrText)
        let summary = try XCTUnwrap(summaryObject(second.stderrText), second.stderrText)
        let sink = try XCTUnwrap((summary["sinks"] as? [[String: Any]])?.first)
        XCTAssertGreaterThan(intValue(sink["replayed"] as Any) ?? 0, 0, "\(sink)")
        XCTAssertEqual(intValue(sink["backlog_bytes"] as Any), 0, "\(sink)")
        XCTAssertEqual(intValue(sink["dropped"] as Any), 0, "\(sink)")
        XCTAssertEqual(spoolBytes(), 0)

        let (_, stream) = try sh("redis-cli -p \(redisPort) --raw XRANGE all - +")
        let lines = stream.split(separator: "\n", omittingEmptySubsequences: false)
        var seqs: [Int64: [Int]] = [:]
        for (index, line) in lines.enumerated() where line == "id_str" && index + 1 < lines.count {
            let parts = lines[index + 1].split(separator: "-")
            seqs[Int64(parts[1])!, default: []].append(Int(parts[2])!)
        }
        XCTAssertEqual(seqs.count, rooms)
        for (room, got) in seqs {
            XCTAssertEqual(got.first, 1, "room \(room): the first run's backlog starts the stream")
            XCTAssertEqual(got, got.sorted(), "room \(room): in order")
            XCTAssertEqual(Set(got).count, got.count, "room \(room): nothing twice")
            // The first run's records (spooled, then replayed) come first and contiguously from 1. How many there
            // are depends on how fast that run was when the spool passed 20 KB (5 per room under ThreadSanitizer);
            // what the killed process had read but not yet spooled is lost with it, so a gap may follow.
            let prefix = zip(got, 1...).prefix { $0 == $1 }.count
            XCTAssertGreaterThanOrEqual(
                prefix, 1, "room \(room): the backlog replayed contiguously (\(got.prefix(20)))")
        }
    }
}
