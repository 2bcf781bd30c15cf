import DanmuSimulator
import Foundation
import TestSupport
import XCTest

@testable import danmu_cli

/// Claims of docs/cli.md that the other CLI tests did not check: duplicate rooms, `--token`, `--output` appending,
/// warnings once per cause, the signal mask and the threads of `listen`, `decode --room`, the default format and
/// the status line on a terminal (a pty), and the defaults of `demo`, `bench-output` and `simulate`.
final class CLIClaimsTests: XCTestCase {
    /// `simulate --listen 127.0.0.1:0 --summary …` and the port it printed.
    func startSimulator(_ extra: [String]) throws -> (ChildProcess, UInt16) {
        let simulator = try ChildProcess(["simulate", "--listen", "127.0.0.1:0", "--summary"] + extra)
        let ready = simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }
        XCTAssertTrue(ready, "simulator did not print its address: \(simulator.stderrText)")
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let port = line.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespaces)) }
        return (simulator, try XCTUnwrap(port, "no port in \(line)"))
    }

    func sentTotals(_ stderr: String) -> [Int64: Int] {
        guard let summary = summaryObject(stderr), let sent = summary["sent"] as? [String: Any] else { return [:] }
        var totals: [Int64: Int] = [:]
        for (room, count) in sent { if let id = Int64(room), let n = intValue(count) { totals[id] = n } }
        return totals
    }

    // MARK: listen

    /// `listen 1 2 1 2 1` asks for two rooms: the summary's `rooms` is 2, and each room's danmaku arrive once.
    func testDuplicateRoomIdsAreDropped() throws {
        let (simulator, port) = try startSimulator(["--rooms", "5", "--rate", "20", "--duration", "1.5"])
        let (ended, out, err) = try ChildProcess.run(
            [
                "listen", "--server", "127.0.0.1:\(port)", "1", "2", "1", "2", "1", "--format", "jsonl", "--summary",
                "--duration", "2.5",
            ], seconds: 20)
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0))
        XCTAssertEqual(ended, .exited(0), err)
        let summary = try XCTUnwrap(summaryObject(err), err)
        XCTAssertEqual(intValue(summary["rooms"]), 2, err)
        XCTAssertEqual(intValue(summary["connected"]), 2, err)
        let sequences = danmakuSequences(parseJSONLines(out))
        XCTAssertEqual(Set(sequences.keys), [1, 2])
        for (room, sequence) in sequences {
            XCTAssertEqual(sequence, Array(1...max(sequence.count, 1)), "room \(room): each danmaku once")
        }
        // And in-process: the parsed options keep the first occurrence of each id, in order.
        let parsed = try ArgumentParser.parse(["3", "1", "3", "2", "1"], specs: ListenOptions.specs)
        XCTAssertEqual(try ListenOptions.from(parsed, stdoutIsTerminal: false).rooms, [3, 1, 2])
    }

    /// `--token K` is the key of the AUTH packet `listen` sends (read here by a loopback server that plays the
    /// server's part); without it the key is empty.
    func testTokenIsTheAuthKey() throws {
        for token in ["s3cr3t-Key_42", nil] {
            let server = try LoopbackServer()
            let listener = try ChildProcess(
                ["listen", "--server", "127.0.0.1:\(server.port)", "7", "--duration", "3", "--no-status"]
                    + (token.map { ["--token", $0] } ?? []))
            let body = try XCTUnwrap(server.firstPacketBody(seconds: 10), "no AUTH packet: \(listener.stderrText)")
            let auth = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                String(decoding: body, as: UTF8.self))
            XCTAssertEqual(intValue(auth["roomid"]), 7, "\(auth)")
            XCTAssertEqual(auth["key"] as? String, token ?? "", "\(auth)")
            listener.send(SIGTERM)
            XCTAssertEqual(listener.finish(seconds: 10), .exited(0), listener.stderrText)
        }
    }

    /// `--output FILE` appends: what was in FILE stays at its start, and a second run adds after the first.
    func testOutputAppendsToTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.file("events.jsonl")
        directory.write("events.jsonl", "{\"already\":\"here\"}\n")
        let (simulator, port) = try startSimulator(["--rooms", "3", "--rate", "20"])
        var sizes: [Int] = []
        for _ in 0..<2 {
            let (ended, _, err) = try ChildProcess.run(
                ["listen", "--server", "127.0.0.1:\(port)", "1", "--output", output, "--duration", "1.5", "--summary"],
                seconds: 20)
            XCTAssertEqual(ended, .exited(0), err)
            sizes.append(readText(output).utf8.count)
        }
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0))
        let text = readText(output)
        XCTAssertTrue(text.hasPrefix("{\"already\":\"here\"}\n"), String(text.prefix(200)))
        XCTAssertGreaterThan(sizes[0], 20, "the first run wrote after the existing line")
        XCTAssertGreaterThan(sizes[1], sizes[0], "the second run appended")
        let lines = parseJSONLines(text)
        // Two runs, each starting with room 1's AUTH_REPLY: two of them in the file, the first run's kept.
        XCTAssertEqual(lines.count { ($0["kind"] as? String) == "auth_reply" }, 2)
    }

    /// A refused port makes the room fail again and again with the same cause: one warning line, while the
    /// summary counts several errors and a `warnings` total above 1.
    func testWarningsArePrintedOncePerCause() throws {
        let closedPort = try LoopbackServer.unusedPort()
        let (ended, _, err) = try ChildProcess.run(
            ["listen", "--server", "127.0.0.1:\(closedPort)", "5", "--duration", "4", "--summary"], seconds: 20)
        XCTAssertEqual(ended, .exited(0), err)
        let warnings = err.split(separator: "\n").filter { $0.contains("danmu-cli: warning:") }
        XCTAssertEqual(warnings.count, 1, err)
        XCTAssertTrue(warnings.first?.contains("room 5:") == true, err)
        XCTAssertTrue(warnings.first?.contains("ECONNREFUSED") == true, err)
        XCTAssertTrue(warnings.first?.contains("(reported once per cause)") == true, err)
        let summary = try XCTUnwrap(summaryObject(err), err)
        XCTAssertGreaterThanOrEqual(intValue(summary["errors"]) ?? 0, 2, "the cause repeated: \(err)")
        XCTAssertGreaterThanOrEqual(intValue(summary["warnings"]) ?? 0, 2, "repeats are counted: \(err)")
    }

    /// While `listen` runs: every thread has SIGINT and SIGTERM blocked (SigBlk in /proc/PID/task/*/status), and
    /// exactly one thread, `danmu-signals`, exists to take them; the threads are the main one, `danmu-signals`,
    /// `danmu-output`, `danmu-io` and `--workers` workers (default cores − 1, at least 1).
    func testListenThreadsAndTheirSignalMask() throws {
        let (simulator, port) = try startSimulator(["--rooms", "3", "--rate", "10"])
        defer {
            simulator.send(SIGTERM)
            _ = simulator.finish(seconds: 10)
        }
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        for workers in [nil, 3] {
            let listener = try ChildProcess(
                ["listen", "--server", "127.0.0.1:\(port)", "1", "2", "--format", "jsonl"]
                    + (workers.map { ["--workers", "\($0)"] } ?? []))
            let streaming = listener.pump(seconds: 10) { $0.stdout.count(where: { $0 == 10 }) >= 6 }
            XCTAssertTrue(streaming, listener.stderrText)
            let threads = threadsOf(listener.pid)
            let names = threads.map(\.name)
            let expectedWorkers = workers ?? max(1, cores - 1)
            XCTAssertEqual(names.count { $0.hasPrefix("danmu-worker-") }, expectedWorkers, "\(names)")
            XCTAssertEqual(names.count { $0 == "danmu-signals" }, 1, "\(names)")
            XCTAssertEqual(names.count { $0 == "danmu-output" }, 1, "\(names)")
            XCTAssertEqual(names.count { $0 == "danmu-io" }, 1, "\(names)")
            // Besides those, only the main thread (named after the process). Under ThreadSanitizer its runtime adds
            // one background thread that carries the process name too.
            let unnamed = names.count { !$0.hasPrefix("danmu-") || $0 == "danmu-cli" }
            XCTAssertTrue((1...2).contains(unnamed), "main, signals, output, io and the workers: \(names)")
            XCTAssertEqual(names.count, 3 + expectedWorkers + unnamed, "main, signals, output, io, workers: \(names)")
            // Every thread but the signal thread has both blocked. The signal thread blocks them too, but it sits in
            // sigwait (rt_sigtimedwait, syscall 128 on x86_64), during which the kernel lifts the waited signals
            // from its mask: so it is the one thread whose SigBlk lacks them, and the one thread in that call.
            let wanted: UInt64 = (1 << (UInt64(SIGINT) - 1)) | (1 << (UInt64(SIGTERM) - 1))
            for thread in threads where thread.name != "danmu-signals" {
                XCTAssertEqual(thread.blocked & wanted, wanted, "\(thread.name) does not block SIGINT and SIGTERM")
            }
            let waiting = threads.filter { $0.blocked & wanted == 0 }.map(\.name)
            XCTAssertEqual(waiting, ["danmu-signals"], "the one thread waiting for the signals")
            #if arch(x86_64)
                let inSigwait = threads.filter { $0.syscall == 128 }.map(\.name)
                if threads.allSatisfy({ $0.syscall != nil }) {
                    XCTAssertEqual(inSigwait, ["danmu-signals"], "the one thread in rt_sigtimedwait")
                }
            #endif
            listener.send(SIGTERM)
            XCTAssertEqual(listener.finish(seconds: 10), .exited(0), listener.stderrText)
        }
    }

    /// (name, SigBlk, current syscall number when /proc lets us read it) of every thread of `pid`.
    func threadsOf(_ pid: pid_t) -> [(name: String, blocked: UInt64, syscall: Int?)] {
        TestFiles.list("/proc/\(pid)/task").compactMap { tid in
            let status = readText("/proc/\(pid)/task/\(tid)/status")
            var name: String?
            var blocked: UInt64?
            for line in status.split(separator: "\n") {
                if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("SigBlk:") {
                    blocked = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16)
                }
            }
            guard let name, let blocked else { return nil }
            let syscall = readText("/proc/\(pid)/task/\(tid)/syscall").split(separator: " ").first.flatMap { Int($0) }
            return (name, blocked, syscall)
        }
    }

    /// `decode --room 7` writes room 7 into every event; without it the room is 0.
    func testDecodeRoomIsWrittenIntoEveryEvent() throws {
        let capture = TestFiles.repositoryRoot + "/Fixtures/captures/sunkey_2021-01_s2c_op5_ver2_zlib_8pkts.bin"
        let (ended, out, err) = try ChildProcess.run(["decode", "--format", "jsonl", "--room", "7", capture])
        XCTAssertEqual(ended, .exited(0), err)
        let lines = parseJSONLines(out)
        XCTAssertEqual(lines.count, 8)
        XCTAssertEqual(Set(lines.map { intValue($0["room"]) }), [7])
        let (_, text, _) = try ChildProcess.run(["decode", "--format", "text", "--room", "7", capture])
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.hasPrefix("[7] ") }, text)
        let (_, plain, _) = try ChildProcess.run(["decode", "--format", "jsonl", capture])
        XCTAssertEqual(Set(parseJSONLines(plain).map { intValue($0["room"]) }), [0])
    }

    // MARK: a terminal (pty)

    /// The default format is `text` when stdout is a terminal, `jsonl` when it is a pipe, and `jsonl` with
    /// `--output` even on a terminal.
    func testDefaultFormatFollowsTheTerminalAndOutput() throws {
        let (simulator, port) = try startSimulator(["--rooms", "3", "--rate", "20"])
        defer {
            simulator.send(SIGTERM)
            _ = simulator.finish(seconds: 10)
        }
        let base = ["listen", "--server", "127.0.0.1:\(port)", "1", "--events", "danmaku", "--no-status"]

        let onTerminal = try TerminalChild(base, terminalStdout: true, terminalStderr: false)
        XCTAssertTrue(onTerminal.read(seconds: 10) { $0.contains("[1] danmaku ") }, onTerminal.terminalText)
        XCTAssertFalse(onTerminal.terminalText.contains("{\"room\""), onTerminal.terminalText)
        XCTAssertEqual(onTerminal.stop(), .exited(0))

        let piped = try ChildProcess(base)
        XCTAssertTrue(piped.pump(seconds: 10) { $0.stdoutText.contains("\n") }, piped.stderrText)
        piped.send(SIGTERM)
        XCTAssertEqual(piped.finish(seconds: 10), .exited(0))
        XCTAssertTrue(piped.stdoutText.hasPrefix("{\"room\":1,"), piped.stdoutText)
        XCTAssertFalse(piped.stdoutText.contains("[1] danmaku "))

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.file("out")
        let toFile = try TerminalChild(base + ["--output", output], terminalStdout: true, terminalStderr: false)
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(50)) { readText(output).contains("\n") })
        XCTAssertEqual(toFile.stop(), .exited(0))
        let written = readText(output)
        XCTAssertTrue(written.hasPrefix("{\"room\":1,"), written)
        XCTAssertEqual(parseJSONLines(written).count, written.split(separator: "\n").count)
        XCTAssertEqual(toFile.terminalText, "", "nothing on the terminal with --output")
    }

    /// With stderr on a terminal, the status line is drawn with "\r ESC[K" and redrawn once per second: a 3.5 s
    /// run draws it about 3 times (at least 2, not more than 5); `--no-status` and a non-terminal draw none.
    func testStatusLineIsRedrawnEverySecondOnATerminal() throws {
        let (simulator, port) = try startSimulator(["--rooms", "3", "--rate", "5"])
        defer {
            simulator.send(SIGTERM)
            _ = simulator.finish(seconds: 10)
        }
        let base = ["listen", "--server", "127.0.0.1:\(port)", "1", "2", "3", "--format", "jsonl", "--duration", "3.5"]
        let child = try TerminalChild(base, terminalStdout: false, terminalStderr: true)
        let ended = child.wait(seconds: 20)
        XCTAssertEqual(ended, .exited(0))
        let text = child.terminalText
        let draws = text.components(separatedBy: "\r\u{1B}[Krooms 3: ").count - 1
        XCTAssertGreaterThanOrEqual(draws, 2, text.debugDescription)
        XCTAssertLessThanOrEqual(draws, 5, text.debugDescription)
        XCTAssertTrue(text.contains(" live, "), text.debugDescription)
        XCTAssertTrue(text.contains(" msg/s | "), text.debugDescription)
        XCTAssertTrue(text.hasSuffix("\r\u{1B}[K"), "cleared at exit: \(text.suffix(80).debugDescription)")

        let quiet = try TerminalChild(base + ["--no-status"], terminalStdout: false, terminalStderr: true)
        XCTAssertEqual(quiet.wait(seconds: 20), .exited(0))
        XCTAssertFalse(quiet.terminalText.contains("rooms 3: "), quiet.terminalText.debugDescription)

        let (pipeEnded, _, pipeErr) = try ChildProcess.run(base, seconds: 20)
        XCTAssertEqual(pipeEnded, .exited(0))
        XCTAssertFalse(pipeErr.contains("rooms 3: "), pipeErr.debugDescription)
    }

    // MARK: defaults of demo, bench-output, simulate

    /// `demo` without options: rooms 1–3, for 10 s, in text (stopped here by SIGINT once lines came, which
    /// exits 0).
    func testDemoDefaultsAreThreeRoomsTenSecondsText() throws {
        let demo = try ChildProcess(["demo"])
        let banner = demo.pump(seconds: 10) { $0.stderrText.contains("listening to rooms") }
        XCTAssertTrue(banner, demo.stderrText)
        XCTAssertTrue(demo.stderrText.contains("listening to rooms 1, 2, 3 for 10 s"), demo.stderrText)
        XCTAssertTrue(demo.pump(seconds: 10) { $0.stdoutText.contains(" danmaku ") }, demo.stdoutText)
        demo.send(SIGINT)
        XCTAssertEqual(demo.finish(seconds: 10), .exited(0), demo.stderrText)
        let lines = demo.stdoutText.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            XCTAssertTrue(line.hasPrefix("[1] ") || line.hasPrefix("[2] ") || line.hasPrefix("[3] "), "text: \(line)")
        }
        XCTAssertTrue(demo.stderrText.contains("from 3 rooms"), demo.stderrText)
    }

    /// `bench-output` defaults: 2,000,000 events (measured with `--sink-only`, stdout on /dev/null), 2 threads,
    /// jsonl; `--sink-only` appends the one formatted line N times, while the printer path varies the room.
    func testBenchOutputDefaultsAndSinkOnly() throws {
        let (ended, report) = try runToDevNull(["bench-output", "--sink-only"], seconds: 120)
        XCTAssertEqual(ended, .exited(0), report)
        let defaults = try XCTUnwrap(summaryObject(report), report)
        XCTAssertEqual(intValue(defaults["events"]), 2_000_000, report)
        XCTAssertEqual(intValue(defaults["threads"]), 2, report)
        XCTAssertEqual(defaults["format"] as? String, "jsonl", report)

        let (sinkEnded, sinkOut, sinkErr) = try ChildProcess.run(["bench-output", "--events", "50", "--sink-only"])
        XCTAssertEqual(sinkEnded, .exited(0), sinkErr)
        let same = sinkOut.split(separator: "\n")
        XCTAssertEqual(same.count, 50)
        XCTAssertEqual(Set(same).count, 1, "the same bytes N times")
        XCTAssertEqual(parseJSONLines(sinkOut).count, 50)
        // The default run wrote that one line 2,000,000 times.
        XCTAssertEqual(intValue(defaults["bytes"]), 2_000_000 * (same[0].utf8.count + 1), report)

        let (printEnded, printOut, printErr) = try ChildProcess.run(["bench-output", "--events", "50"])
        XCTAssertEqual(printEnded, .exited(0), printErr)
        let printed = parseJSONLines(printOut)
        XCTAssertEqual(printed.count, 50, "jsonl by default")
        XCTAssertGreaterThan(Set(printed.map { intValue($0["room"]) }).count, 1, "the printer path varies rooms")
        XCTAssertEqual(summaryObject(printErr)?["format"] as? String, "jsonl")
    }

    /// `--limit N` stops sending to a room after N messages; `--mix danmaku` sends danmaku only (the listener
    /// sees nothing but danmaku and its own auth_reply / popularity); `--batch` is 10 messages per packet by default.
    func testSimulateLimitMixAndBatchDefault() throws {
        let (simulator, port) = try startSimulator(["--rooms", "2", "--rate", "0", "--limit", "7", "--mix", "danmaku"])
        let listener = try ChildProcess(
            ["listen", "--server", "127.0.0.1:\(port)", "1", "2", "--format", "jsonl", "--duration", "2.5"])
        XCTAssertEqual(listener.finish(seconds: 20), .exited(0), listener.stderrText)
        simulator.send(SIGTERM)
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0))
        XCTAssertEqual(sentTotals(simulator.stderrText), [1: 7, 2: 7], simulator.stderrText)
        let lines = parseJSONLines(listener.stdoutText)
        XCTAssertEqual(danmakuSequences(lines), [1: Array(1...7), 2: Array(1...7)])
        XCTAssertEqual(
            Set(lines.compactMap { $0["kind"] as? String }).subtracting(["auth_reply", "popularity"]), ["danmaku"])

        let defaults = SimulateOptions(listen: HostPort(host: "127.0.0.1", port: 0))
        XCTAssertEqual(defaults.batch, 10)
        XCTAssertEqual(defaults.mix, "realistic")
        XCTAssertNil(defaults.limit)
        // The server `simulate` starts with those defaults packs 10 messages per packet.
        let server = try SimulatorServer.start(defaults).get()
        XCTAssertEqual(server.simulator.configuration.batchSize, 10)
        XCTAssertEqual(server.simulator.configuration.mix, .realistic)
        _ = server.stop()
    }

    /// Runs danmu-cli with stdout on /dev/null (2,000,000 lines would only fill the test's memory), stderr captured.
    func runToDevNull(_ arguments: [String], seconds: Double) throws -> (Termination, String) {
        let child = try TerminalChild(arguments, terminalStdout: false, terminalStderr: true, stdoutPath: "/dev/null")
        let ended = child.wait(seconds: seconds) ?? .signaled(SIGKILL)
        return (ended, child.terminalText.replacingOccurrences(of: "\r\n", with: "\n"))
    }
}

/// A loopback TCP listener on a free port that accepts one connection and reads its first packet.
final class LoopbackServer {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, 4) == 0 else {
            self.port = 0
            throw ChildError("listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// A port nothing listens on (bound, then closed).
    static func unusedPort() throws -> UInt16 { try LoopbackServer().port }

    /// Accepts one connection and returns the body of the first packet it sends (16-byte header, length first).
    func firstPacketBody(seconds: Double) -> [UInt8]? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(seconds * 1000)) == 1 else { return nil }
        let connection = accept(fd, nil, nil)
        guard connection >= 0 else { return nil }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer { close(connection) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if received.count >= 16 {
                let length = received[0..<4].reduce(0) { $0 << 8 | Int($1) }
                if length >= 16, received.count >= length { return Array(received[16..<length]) }
            }
            var readable = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&readable, 1, Int32(seconds * 1000)) == 1 else { return nil }
            let count = read(connection, &chunk, chunk.count)
            if count <= 0 { return nil }
            received += chunk[0..<count]
        }
    }
}

/// danmu-cli with stdout and/or stderr on a pseudo-terminal (the other one on /dev/null or `stdoutPath`), what
/// it writes to the terminal collected from the master side.
final class TerminalChild {
    let pid: pid_t
    private var master: Int32
    private var bytes: [UInt8] = []
    private var termination: Termination?

    init(
        _ arguments: [String], terminalStdout: Bool, terminalStderr: Bool, stdoutPath: String = "/dev/null"
    ) throws {
        // posix_openpt/unlockpt/ptsname by hand (Glibc's module does not export them): /dev/ptmx, TIOCSPTLCK
        // to unlock, TIOCGPTN for the number of /dev/pts/N.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw ChildError("/dev/ptmx: errno \(errno)")
        }
        let slave = "/dev/pts/\(number)"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, terminalStdout ? slave : stdoutPath, O_WRONLY | O_NOCTTY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, terminalStderr ? slave : "/dev/null", O_WRONLY | O_NOCTTY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let tool = builtToolPath()
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, tool, &actions, &attributes, argv, environ)
        guard status == 0 else {
            close(master)
            throw ChildError("posix_spawn: \(String(cString: strerror(status)))")
        }
        pid = child
    }

    deinit {
        if termination == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }

    /// What reached the terminal so far.
    var terminalText: String { String(decoding: bytes, as: UTF8.self) }

    /// Reads the terminal until `condition` holds or `seconds` pass.
    func read(seconds: Double, until condition: (String) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition(terminalText) {
            if ContinuousClock.now >= deadline { return false }
            if !readOnce(milliseconds: 100) && exited() != nil { return condition(terminalText) }
        }
        return true
    }

    /// SIGTERM, then waits for the exit while reading the terminal.
    func stop() -> Termination? {
        kill(pid, SIGTERM)
        return wait(seconds: 10)
    }

    /// Waits up to `seconds` for the exit, reading the terminal; SIGKILL (and nil) after that.
    func wait(seconds: Double) -> Termination? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            _ = readOnce(milliseconds: 50)
            if let ended = exited() {
                while readOnce(milliseconds: 0) {}
                return ended
            }
        }
        kill(pid, SIGKILL)
        return nil
    }

    private func exited() -> Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let ended: Termination = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        termination = ended
        return ended
    }

    /// One poll and read of the master side; false when nothing came (or the slave side is closed: EIO).
    private func readOnce(milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1, entry.revents & Int16(POLLIN) != 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let count = Glibc.read(master, &chunk, chunk.count)
        guard count > 0 else { return false }
        bytes += chunk[0..<count]
        return true
    }
}
