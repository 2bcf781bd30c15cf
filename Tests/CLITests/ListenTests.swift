import Foundation
import TestSupport
import XCTest

/// `danmu-cli listen --server` against `danmu-cli simulate` in another process, over loopback on a free
/// port: completeness and order via the simulator's id_str sequence numbers, the JSONL schema, SIGTERM
/// mid-stream, rotation, and the demo.
final class ListenTests: XCTestCase {
    /// Starts `simulate` on 127.0.0.1:0 and returns it with the port it printed.
    func startSimulator(_ extra: [String], rooms: Int) throws -> (ChildProcess, UInt16) {
        let simulator = try ChildProcess(
            ["simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms)", "--summary"] + extra)
        let ready = simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }
        XCTAssertTrue(ready, "simulator did not print its address: \(simulator.stderrText)")
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = line.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespaces)) }
        return (simulator, try XCTUnwrap(port, "no port in \(line)"))
    }

    func writeRoomsFile(_ directory: TemporaryDirectory, count: Int) -> String {
        directory.write(
            "rooms.txt", "# simulated rooms\n" + (1...count).map(String.init).joined(separator: "\n") + "\n")
        return directory.file("rooms.txt")
    }

    /// Per-room sent totals from the simulator's --summary line: {"sent":{"1":12,...}}.
    func sentTotals(_ stderr: String) -> [Int64: Int] {
        guard let summary = summaryObject(stderr), let sent = summary["sent"] as? [String: Any] else { return [:] }
        var totals: [Int64: Int] = [:]
        for (room, count) in sent { if let id = Int64(room), let n = intValue(count) { totals[id] = n } }
        return totals
    }

    /// 200 rooms for ~2 s; once the simulator has stopped and reported what it sent, the listener must
    /// have written exactly that: every room's sequence 1...sent, in order, then SIGTERM ends it cleanly.
    func testListenTwoHundredRoomsCompleteAndInOrder() throws {
        try checkCompleteRun(rooms: 200, rate: 5, protover: "3")
    }

    /// The same with zlib batches (protover 2), fewer rooms: the simulator's deflate is costly in debug builds.
    func testListenZlibBatchesCompleteAndInOrder() throws {
        try checkCompleteRun(rooms: 20, rate: 10, protover: "2")
    }

    func checkCompleteRun(rooms: Int, rate: Int, protover: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (simulator, port) = try startSimulator(["--rate", "\(rate)", "--duration", "2"], rooms: rooms)
        let listener = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(port)", "--rooms-file", writeRoomsFile(directory, count: rooms),
            "--format", "jsonl", "--summary", "--protover", protover,
        ])
        XCTAssertEqual(simulator.finish(seconds: 30), .exited(0), simulator.stderrText)
        let sent = sentTotals(simulator.stderrText)
        XCTAssertEqual(sent.count, rooms, "simulator summary: \(simulator.stderrText.suffix(500))")
        let expected = sent.values.reduce(0, +)
        let danmaku = Array(#""kind":"danmaku""#.utf8)
        let caughtUp = listener.pump(seconds: 30) { child in
            child.stdout.split(separator: 10).count {
                $0.starts(with: Array(#"{"room":"#.utf8)) && $0.contains(danmaku)
            } >= expected
        }
        XCTAssertTrue(caughtUp, "listener wrote fewer danmaku than the \(expected) sent")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 15), .exited(0), listener.stderrText)

        let lines = parseJSONLines(listener.stdoutText)
        for line in lines {
            for field in requiredEventFields { XCTAssertNotNil(line[field], "\(field) missing: \(line)") }
            if (line["kind"] as? String) == "danmaku" {
                XCTAssertNotNil(line["text"] as? String)
                XCTAssertNotNil(line["uid"])
                XCTAssertNotNil(line["uname"] as? String)
            }
        }
        let received = danmakuSequences(lines)
        XCTAssertEqual(received.count, rooms, "every room delivered danmaku")
        for (room, count) in sent {
            XCTAssertGreaterThan(count, 0, "room \(room) sent nothing")
            XCTAssertEqual(
                received[room] ?? [], Array(1...max(count, 1)), "room \(room): sequences complete and in order")
        }
        let summary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        for key in ["rooms", "connected", "events", "reconnects", "errors"] { XCTAssertNotNil(summary[key], key) }
        XCTAssertEqual(intValue(summary["rooms"]), rooms)
        XCTAssertEqual(intValue(summary["connected"]), rooms)
        XCTAssertEqual(intValue(summary["events"]), lines.count, "every received event was written")
    }

    func testSigtermMidStreamLosesNothingReceived() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let rooms = 50
        let (simulator, port) = try startSimulator(["--rate", "50"], rooms: rooms)
        let listener = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(port)", "--rooms-file", writeRoomsFile(directory, count: rooms),
            "--format", "jsonl", "--summary",
        ])
        let streaming = listener.pump(seconds: 10) { $0.stdout.count(where: { $0 == 10 }) >= 500 }
        XCTAssertTrue(streaming, "no stream: \(listener.stderrText)")
        listener.send(SIGTERM)
        XCTAssertEqual(listener.finish(seconds: 10), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0), simulator.stderrText)

        let lines = parseJSONLines(listener.stdoutText)
        XCTAssertGreaterThanOrEqual(lines.count, 500)
        for (room, sequence) in danmakuSequences(lines) {
            XCTAssertEqual(sequence, Array(1...sequence.count), "room \(room): no gap, no reordering")
        }
        let summary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        XCTAssertEqual(intValue(summary["events"]), lines.count, "everything received was flushed before exit")
        let sent = sentTotals(simulator.stderrText)
        XCTAssertEqual(sent.count, rooms)
    }

    /// Rotation by size: more than two files, none over 16 KiB or ending mid-line, and read in the order they
    /// were written (FILE.YYYYMMDD-HHMMSS[-N], then FILE itself) they hold exactly what the simulator sent:
    /// every room's sequence 1...sent, in order, nothing lost or repeated at a file boundary.
    func testOutputFileRotatesBySizeWithoutSplittingLines() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (simulator, port) = try startSimulator(["--rate", "40", "--duration", "2"], rooms: 20)
        let output = directory.file("events.jsonl")
        let listened: [Int64] = Array(1...10)
        let listener = try ChildProcess(
            ["listen", "--server", "127.0.0.1:\(port)"] + listened.map(String.init)
                + ["--output", output, "--rotate", "16K", "--duration", "3", "--summary"])
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0), simulator.stderrText)
        XCTAssertEqual(listener.finish(seconds: 10), .exited(0), listener.stderrText)
        let files = directory.list().filter { $0.hasPrefix("events.jsonl") }.sorted(by: rotationOrder)
        XCTAssertGreaterThan(files.count, 2, "rotation produced \(files)")
        XCTAssertEqual(files.last, "events.jsonl", "the live file is the newest")
        var all: [[String: Any]] = []
        for name in files {
            let text = readText(directory.file(name))
            XCTAssertLessThanOrEqual(text.utf8.count, 16 << 10, "\(name) exceeds the rotation size")
            XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "\(name) ends mid-line")
            all += parseJSONLines(text)
        }
        let summary = try XCTUnwrap(summaryObject(listener.stderrText), listener.stderrText)
        XCTAssertEqual(intValue(summary["events"]), all.count)
        let sent = sentTotals(simulator.stderrText)
        XCTAssertEqual(Set(sent.keys), Set(listened), "simulator summary: \(simulator.stderrText.suffix(500))")
        let received = danmakuSequences(all)
        for room in listened {
            let count = sent[room] ?? 0
            XCTAssertGreaterThan(count, 0, "room \(room) sent nothing")
            XCTAssertEqual(
                received[room] ?? [], Array(1...max(count, 1)),
                "room \(room): exactly 1...\(count) across the files, in order")
        }
    }

    /// Orders rotated files as they were written: FILE.YYYYMMDD-HHMMSS, FILE.YYYYMMDD-HHMMSS-N (N numerically),
    /// and FILE (still open) last.
    private func rotationOrder(_ a: String, _ b: String) -> Bool {
        func key(_ name: String) -> (String, Int) {
            let parts = name.split(separator: ".").last.map { $0.split(separator: "-") } ?? []
            guard name != "events.jsonl", parts.count >= 2 else { return ("~", 0) }
            return (parts[0] + "-" + parts[1], parts.count > 2 ? Int(parts[2]) ?? 0 : 0)
        }
        return key(a) < key(b)
    }

    func testEventsFilterKeepsOnlyRequestedKinds() throws {
        let (simulator, port) = try startSimulator(["--rate", "30", "--duration", "1.5"], rooms: 5)
        let listener = try ChildProcess([
            "listen", "--server", "127.0.0.1:\(port)", "1", "2", "3", "--events", "danmaku", "--format", "jsonl",
            "--duration", "2.5",
        ])
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0))
        XCTAssertEqual(listener.finish(seconds: 10), .exited(0), listener.stderrText)
        let lines = parseJSONLines(listener.stdoutText)
        XCTAssertGreaterThan(lines.count, 0)
        XCTAssertEqual(Set(lines.map { $0["kind"] as? String ?? "?" }), ["danmaku"])
    }

    /// The offline demo (in-process simulator, 3 rooms) delivers what its simulator sent: its own summary's
    /// "received" equals the danmaku lines it printed, every room's sequence is 1...n in order, and it received
    /// what was sent except at most one danmaku per room written in the instant the listener stopped (2 msg/s
    /// per room, so one more would mean a loss, not the shutdown race).
    func testDemoRunsOffline() throws {
        let (ended, out, err) = try ChildProcess.run(["demo", "--duration", "2", "--format", "jsonl"], seconds: 15)
        XCTAssertEqual(ended, .exited(0), err)
        let lines = parseJSONLines(out)
        XCTAssertGreaterThan(lines.count, 3, out)
        XCTAssertTrue(err.contains("simulator"), err)
        let summary = try XCTUnwrap(
            err.split(separator: "\n").last { $0.contains("the simulator sent") }.map(String.init), err)
        func number(before marker: String) -> Int? {
            guard let range = summary.range(of: marker) else { return nil }
            return Int(summary[..<range.lowerBound].split(separator: " ").last ?? "")
        }
        let received = try XCTUnwrap(number(before: " danmaku ("), summary)
        let sent = try XCTUnwrap(number(before: " danmaku. Next"), summary)
        let sequences = danmakuSequences(lines)
        XCTAssertEqual(sequences.values.reduce(0) { $0 + $1.count }, received, "printed danmaku = received: \(summary)")
        XCTAssertEqual(Set(sequences.keys), [1, 2, 3], "every demo room delivered danmaku")
        for (room, sequence) in sequences {
            XCTAssertEqual(sequence, Array(1...max(sequence.count, 1)), "room \(room): contiguous from 1, in order")
        }
        XCTAssertGreaterThan(received, 0)
        XCTAssertTrue((0...3).contains(sent - received), "received \(received) of \(sent) sent: \(summary)")
    }
}

/// Signals beyond the graceful path.
final class SignalTests: XCTestCase {
    /// Output that cannot drain (a pipe nobody reads) makes the graceful stop wait; a second SIGINT must end
    /// the process at once with status 130.
    func testSecondSigintExitsImmediatelyWhenFlushIsStuck() throws {
        let simulator = try ChildProcess([
            "simulate", "--listen", "127.0.0.1:0", "--rooms", "20", "--rate", "0",
            "--mix", "danmaku", "--limit", "20000",
        ])
        XCTAssertTrue(simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }, simulator.stderrText)
        let port = try XCTUnwrap(
            simulator.stdoutText.split(separator: ":").last.flatMap {
                UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines))
            })
        let listener = try ChildProcess(
            ["listen", "--server", "127.0.0.1:\(port)"] + (1...20).map(String.init)
                + ["--format", "jsonl"])
        // Never read its stdout: the 64 KiB pipe fills and the sink's write blocks.
        XCTAssertNil(listener.waitWithoutReading(seconds: 1.5), "listen exited early")
        listener.send(SIGINT)
        XCTAssertNil(listener.waitWithoutReading(seconds: 0.5), "the graceful stop cannot finish while output is stuck")
        listener.send(SIGINT)
        XCTAssertEqual(listener.waitWithoutReading(seconds: 5), .exited(130))
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0))
    }
}
