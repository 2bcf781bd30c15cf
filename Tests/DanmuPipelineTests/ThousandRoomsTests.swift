import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// Issue 12's check: every danmaku the simulator sent to 1,000 rooms is in SQLite and in the Redis stream
/// exactly once, in order per room (id_str sequences) — read back with Python's sqlite3 and redis-cli.
final class ThousandRoomsTests: XCTestCase {
    func testThousandRoomsIntoSQLiteAndRedisOnceInOrder() throws {
        let rooms = 1000, perRoom = 20
        let redis = try RedisTestServer(persistent: true)
        defer { redis.stop() }
        try withTemporaryDirectory { dir in
            let reactor = try Reactor()
            try reactor.start()
            defer { reactor.shutdown() }
            let simulator = try PipelineSimulator(
                .init(
                    rooms: .range(1...Int64(rooms)), ratePerRoom: 0, messageLimitPerRoom: perRoom, batchSize: 5,
                    mix: MessageMix(weights: [.danmaku: 1])))
            defer { simulator.close() }
            let sqlite = try SinkRunner(sink: SQLiteSink(path: dir + "/rooms.db"))
            let url = try RedisURL(parsing: "redis://127.0.0.1:\(redis.port)?stream=all&maxlen=0")
            let stream = try SinkRunner(sink: RedisSink(url: url, reactor: reactor))
            let pipeline = Pipeline(stages: [FilterStage(kinds: [.danmaku]), DedupeStage()], sinks: [sqlite, stream])
            // The live service's timing, not the quick tests' (heartbeat every 300 ms, auth timeout 3 s): a
            // thousand rooms beating every 300 ms under ThreadSanitizer on two busy cores made auth replies and
            // heartbeat replies late, the rooms reconnected, and the danmaku the simulator had already sent to
            // the closed connections were gone (a real server does not replay either). This test is about the
            // pipeline, so the connections must stay up; `reconnects` is checked below.
            var configuration = simulator.collectorConfiguration()
            configuration.timing = .init()
            configuration.timing.authTimeout = .seconds(30)  // a thousand connects at once on a sanitized build
            let collector = try DanmuCollector(configuration: configuration)
            collector.setHandler(pipeline)
            try collector.start()
            collector.add(rooms: (1...rooms).map(Int64.init))
            let total = rooms * perRoom
            XCTAssertTrue(
                waitFor(timeout: .seconds(120)) {
                    sqlite.statistics.written == total && stream.statistics.written == total
                },
                "sqlite \(sqlite.statistics), redis \(stream.statistics); \(describe(collector.statistics())); "
                    + "simulator \(describe(simulator.simulator.statistics()))")
            let collectorStatistics = collector.statistics()
            XCTAssertEqual(collectorStatistics.reconnects, 0, describe(collectorStatistics))
            collector.shutdown()
            pipeline.close()

            let check = """
                import sqlite3, sys, collections
                rooms, per_room = int(sys.argv[2]), int(sys.argv[3])
                seqs = collections.defaultdict(list)
                for room, id_str in sqlite3.connect(sys.argv[1]).execute("SELECT room, id_str FROM events ORDER BY id"):
                    seqs[room].append(int(id_str.split("-")[2]))
                bad = [r for r in range(1, rooms + 1) if seqs.get(r) != list(range(1, per_room + 1))]
                assert not bad, ("rooms out of order or incomplete", bad[:5], [seqs.get(r) for r in bad[:2]])
                print("OK", sum(map(len, seqs.values())))
                """
            let result = runPython(check, [dir + "/rooms.db", "\(rooms)", "\(perRoom)"])
            XCTAssertEqual(result.status, 0, result.output)

            var fromRedis: [Int64: [Int]] = [:]
            for idStr in redis.idStrs("all") {
                let parts = idStr.split(separator: "-")
                fromRedis[Int64(parts[1])!, default: []].append(Int(parts[2])!)
            }
            XCTAssertEqual(fromRedis.count, rooms)
            let bad = (1...rooms).filter { fromRedis[Int64($0)] != Array(1...perRoom) }
            XCTAssertTrue(bad.isEmpty, "redis rooms out of order or incomplete: \(bad.prefix(5))")
        }
    }
}

/// The collector's room phases and error counters, for a failure message.
func describe(_ statistics: CollectorStatistics) -> String {
    var phases: [String: Int] = [:]
    for room in statistics.rooms { phases["\(room.phase)", default: 0] += 1 }
    let errors = statistics.rooms.compactMap(\.lastError).prefix(3)
    return "collector phases \(phases.sorted { $0.key < $1.key }), events \(statistics.events), "
        + "reconnects \(statistics.reconnects), errors \(statistics.errors) (auth \(statistics.authFailures)), "
        + "last errors \(Array(errors))"
}

/// The simulator's connection counters, for a failure message.
func describe(_ statistics: SimulatorStatistics) -> String {
    "accepted \(statistics.connectionsAccepted), open \(statistics.connectionsOpen), auths ok \(statistics.authsOK), "
        + "failed \(statistics.authsFailed), danmaku sent \(statistics.danmakuSent)"
}
