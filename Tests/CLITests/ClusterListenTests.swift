import Glibc
import TestSupport
import XCTest

/// A cluster under test: a real redis-server, `danmu-cli simulate` and nodes as separate `danmu-cli listen
/// --cluster` processes, all on 127.0.0.1. Scaled for 2 busy cores: 300 rooms (not the 3,000) at one
/// danmaku per second per room, lease TTL 3 s (a period of 1 s).
final class ClusterFixture {
    static let ttl = 3.0
    let redis: RedisTestServer
    /// Where the nodes' Redis sink writes the stream: `redis`, or a server of its own (`separateSink`).
    let sinkRedis: RedisTestServer
    let simulator: ChildProcess
    let simulatorPort: UInt16
    let spool: TemporaryDirectory
    let rooms: Int
    var nodes: [ChildProcess] = []
    var nodeIDs: [String] = []

    /// `simulatorArguments`: appended to the `simulate` command (e.g. `--delivery every`). `rate`: danmaku per
    /// second per room. `separateSink`: the stream lives on a second redis-server (so a test can stall it).
    init(
        rooms: Int, simulatorSeconds: Int, simulatorArguments: [String] = [], rate: Double = 1,
        separateSink: Bool = false
    ) throws {
        self.rooms = rooms
        do {
            redis = try RedisTestServer()
            sinkRedis = separateSink ? try RedisTestServer() : redis
        } catch {
            XCTFail("\(error)")
            throw error
        }
        spool = try TemporaryDirectory()
        let (added, _, addErr) = try ChildProcess.run(
            ["rooms", "add", "--cluster", redis.url] + (1...rooms).map(String.init))
        XCTAssertEqual(added, .exited(0), addErr)
        simulator = try ChildProcess(
            [
                "simulate", "--listen", "127.0.0.1:0", "--rooms", "\(rooms)", "--rate", "\(rate)", "--mix", "danmaku",
                "--duration", "\(simulatorSeconds)", "--summary",
            ] + simulatorArguments)
        XCTAssertTrue(simulator.pump(seconds: 10) { $0.stdoutText.contains("\n") }, simulator.stderrText)
        let line = simulator.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        simulatorPort = try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0) }, "no port in \(line)")
    }

    deinit {
        for node in nodes { node.send(SIGKILL) }
        spool.remove()
        if sinkRedis.pid > 0 { kill(sinkRedis.pid, SIGCONT) }  // a test may have stalled it
        redis.stop()
        sinkRedis.stop()
    }

    /// Starts `count` nodes and waits until each printed its node id.
    func startNodes(_ count: Int) throws {
        for _ in 0..<count {
            // A spool directory per node: the Redis sink's spool is named by the server, the same for every node.
            let spoolDirectory = spool.path + "/node\(nodes.count)"
            XCTAssertEqual(mkdir(spoolDirectory, 0o700), 0)
            let node = try ChildProcess(
                [
                    "listen", "--cluster", redis.url, "--server", "127.0.0.1:\(simulatorPort)", "--lease-ttl",
                    "\(Self.ttl)", "--sink", sinkRedis.url + "?stream=all&maxlen=0", "--spool-dir", spoolDirectory,
                    "--no-status", "--summary",
                ])
            nodes.append(node)
        }
        for node in nodes {
            XCTAssertTrue(node.pump(seconds: 10) { $0.stderrText.contains(" joined") }, node.stderrText)
            let id = node.stderrText.split(separator: "\n").first { $0.contains(" joined") }?
                .split(separator: " ").dropLast().last.map(String.init)
            nodeIDs.append(try XCTUnwrap(id, node.stderrText))
        }
    }

    /// `rooms list --owners`: room → lease value (node id, `handoff:<id>`, or "-").
    func owners() -> [Int64: String] {
        guard let (ended, out, _) = try? ChildProcess.run(["rooms", "list", "--owners", "--cluster", redis.url]),
            ended == .exited(0)
        else { return [:] }
        var owners: [Int64: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let room = Int64(parts[0]) { owners[room] = String(parts[1]) }
        }
        return owners
    }

    /// True when every room's lease is held by one of `ids` (not being handed over, not free).
    func everyRoomHeld(by ids: [String]) -> Bool {
        let owners = owners()
        return owners.count == rooms && owners.values.allSatisfy { ids.contains($0) }
    }

    /// Keeps every node's pipes drained while waiting (a full stderr pipe would stall a node).
    func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if condition() { return true }
            for node in nodes { _ = node.pump(seconds: 0.05) { _ in false } }
        }
        return condition()
    }

    /// The simulator's per-room totals, once it ended by its --duration.
    func finishSimulator() -> [Int64: Int] {
        var ended = false
        _ = wait(seconds: 60) {
            ended = simulator.pump(seconds: 0.05) { $0.stderrText.contains("\"sent\"") }
            return ended
        }
        XCTAssertEqual(simulator.finish(seconds: 10), .exited(0), simulator.stderrText)
        guard let summary = summaryObject(simulator.stderrText), let sent = summary["sent"] as? [String: Any] else {
            XCTFail("no simulator summary: \(simulator.stderrText.suffix(500))")
            return [:]
        }
        var totals: [Int64: Int] = [:]
        for (room, count) in sent { if let id = Int64(room), let n = intValue(count) { totals[id] = n } }
        return totals
    }

    /// Every `id_str` in the stream, as (room, seq, sentAt ns), in stream order (extracted by a script in Redis,
    /// so the JSON bodies never cross the pipe).
    func streamEntries() -> [(room: Int64, seq: Int, sentAt: UInt64)] {
        let script = """
            local r = {}
            for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
              local f = e[2]
              for i = 1, #f, 2 do if f[i] == 'id_str' then r[#r + 1] = f[i + 1] end end
            end
            return r
            """
        guard
            let child = try? ChildProcess(
                ["-p", "\(sinkRedis.port)", "--raw", "EVAL", script, "1", "all"], tool: "/usr/bin/redis-cli")
        else { return [] }
        _ = child.finish(seconds: 20)
        return child.stdoutText.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "-")
            guard parts.count == 4, parts[0] == "sim", let room = Int64(parts[1]), let seq = Int(parts[2]),
                let at = UInt64(parts[3])
            else { return nil }
            return (room, seq, at)
        }
    }

    /// Waits until the stream holds `expected` entries, or stopped growing for 2 s (a gap: some never came),
    /// at most 20 s; then returns it.
    func settledStream(expected: Int) -> [(room: Int64, seq: Int, sentAt: UInt64)] {
        var entries = streamEntries()
        var lastChange = monotonicSeconds()
        _ = wait(seconds: 20) {
            let before = entries.count
            entries = streamEntries()
            if entries.count != before { lastChange = monotonicSeconds() }
            return entries.count >= expected || monotonicSeconds() - lastChange > 2
        }
        return entries
    }

    func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Per room: the seqs in stream order.
func sequencesByRoom(_ entries: [(room: Int64, seq: Int, sentAt: UInt64)]) -> [Int64: [Int]] {
    var rooms: [Int64: [Int]] = [:]
    for entry in entries { rooms[entry.room, default: []].append(entry.seq) }
    return rooms
}

final class ClusterListenTests: XCTestCase {
    /// 3 nodes × 300 rooms: every room held by exactly one node within 10 s; the stream holds every danmaku the
    /// simulator sent exactly once.
    func testThreeNodesHoldEveryRoomOnceAndTheStreamHasEveryDanmakuOnce() throws {
        let cluster = try ClusterFixture(rooms: 300, simulatorSeconds: 14)
        let started = cluster.monotonicSeconds()
        try cluster.startNodes(3)
        let held = cluster.wait(seconds: 10 - (cluster.monotonicSeconds() - started)) {
            cluster.everyRoomHeld(by: cluster.nodeIDs)
        }
        let owners = cluster.owners()
        XCTAssertTrue(
            held,
            "not every room held by one node within 10 s: \(Dictionary(grouping: owners.values) { $0 }.mapValues(\.count))"
        )
        let perNode = Dictionary(grouping: owners.values) { $0 }.mapValues(\.count)
        XCTAssertEqual(perNode.count, 3, "\(perNode)")
        XCTAssertTrue(perNode.values.allSatisfy { $0 == 100 }, "fair share: \(perNode)")

        let sent = cluster.finishSimulator()
        let expected = sent.values.reduce(0, +)
        XCTAssertGreaterThan(expected, 0)
        let entries = cluster.settledStream(expected: expected)
        let byRoom = sequencesByRoom(entries)
        XCTAssertEqual(entries.count, expected, "every danmaku once")
        for (room, count) in sent {
            // Sorted: a start-up hand-over (a node that came up a period late) has two writers for a moment.
            XCTAssertEqual((byRoom[room] ?? []).sorted(), count > 0 ? Array(1...count) : [], "room \(room)")
        }
    }
}

/// The scale: 3 nodes × 3,000 simulated rooms (at a low rate, 0.2 danmaku per second per room, so that
/// 9,000 connections fit 2 busy cores): every room held by exactly one node within 10 s, the fair share exactly,
/// and the stream holds every danmaku exactly once. A suite of its own so it can run in the plain phase only.
final class ClusterScaleTests: XCTestCase {
    func testThreeNodesHoldThreeThousandRoomsOnceAndTheStreamHasEveryDanmakuOnce() throws {
        let cluster = try ClusterFixture(rooms: 3000, simulatorSeconds: 16, rate: 0.2)
        let started = cluster.monotonicSeconds()
        try cluster.startNodes(3)
        let held = cluster.wait(seconds: 10 - (cluster.monotonicSeconds() - started)) {
            cluster.everyRoomHeld(by: cluster.nodeIDs)
        }
        let tookSeconds = cluster.monotonicSeconds() - started
        let owners = cluster.owners()
        let perNode = Dictionary(grouping: owners.values) { $0 }.mapValues(\.count)
        XCTAssertTrue(held, "not every room held by one node within 10 s: \(perNode)")
        XCTAssertEqual(perNode.count, 3, "\(perNode)")
        XCTAssertTrue(perNode.values.allSatisfy { $0 == 1000 }, "fair share: \(perNode)")

        let sent = cluster.finishSimulator()
        XCTAssertEqual(sent.count, 3000, "the simulator's summary names every room")
        let expected = sent.values.reduce(0, +)
        XCTAssertGreaterThan(expected, 3000)
        let entries = cluster.settledStream(expected: expected)
        XCTAssertEqual(entries.count, expected, "every danmaku once")
        let byRoom = sequencesByRoom(entries)
        var wrong: [Int64] = []
        for (room, count) in sent where (byRoom[room] ?? []).sorted() != (count > 0 ? Array(1...count) : []) {
            wrong.append(room)
        }
        XCTAssertEqual(wrong.sorted().prefix(20), [], "rooms whose danmaku are not each in the stream once")
        print("3 × 3000: every room held after \(tookSeconds) s; \(entries.count) danmaku, each once")
    }
}
