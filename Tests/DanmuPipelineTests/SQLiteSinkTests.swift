import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// The SQLite sink against the system's libsqlite3, read back with Python's `sqlite3` module (a second,
/// independent reader of the file), not only through our own code.
final class SQLiteSinkTests: XCTestCase {
    /// Every danmaku the simulator sent is in the database exactly once, in order per room (the `id_str`
    /// sequence `sim-<room>-<seq>-<ns>`), with the schema's pragmas and indexes as docs/sqlite.md states.
    func testEveryDanmakuOnceInOrderPerRoomReadBackWithPython() throws {
        let rooms = 20
        let perRoom = 300
        try withTemporaryDirectory { dir in
            let path = dir + "/danmu.db"
            let simulator = try PipelineSimulator(
                .init(
                    rooms: .range(1...Int64(rooms)), ratePerRoom: 0, messageLimitPerRoom: perRoom, batchSize: 10,
                    mix: MessageMix(weights: [.danmaku: 1])))
            defer { simulator.close() }
            var c = SinkConfiguration()
            c.spoolPath = dir + "/danmu.db.spool"
            let runner = try SinkRunner(sink: SQLiteSink(path: path), configuration: c)
            let pipeline = Pipeline(stages: [FilterStage(kinds: [.danmaku])], sinks: [runner])
            let collector = try DanmuCollector(configuration: simulator.collectorConfiguration())
            collector.setHandler(pipeline)
            try collector.start()
            for room in 1...rooms { collector.add(room: Int64(room)) }
            XCTAssertTrue(
                waitFor(timeout: .seconds(60)) { runner.statistics.written == rooms * perRoom },
                "\(runner.statistics)")
            collector.shutdown()
            pipeline.close()
            XCTAssertGreaterThan(runner.statistics.batches, 0)
            XCTAssertLessThan(runner.statistics.batches, rooms * perRoom, "group commit: batches of many rows")

            let check = """
                import sqlite3, sys, collections
                db = sqlite3.connect(sys.argv[1])
                rooms, per_room = int(sys.argv[2]), int(sys.argv[3])
                seqs = collections.defaultdict(list)
                for room, id_str, kind, uid, json_text in db.execute(
                        "SELECT room, id_str, kind, uid, json FROM events ORDER BY id"):
                    _, r, seq, _ = id_str.split("-")
                    assert int(r) == room and kind == "danmaku" and uid is not None, (room, id_str, kind)
                    import json; assert json.loads(json_text)["id_str"] == id_str
                    seqs[room].append(int(seq))
                assert sorted(seqs) == list(range(1, rooms + 1)), sorted(seqs)
                for room, got in seqs.items():
                    assert got == list(range(1, per_room + 1)), (room, got[:10], len(got))
                assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert db.execute("PRAGMA user_version").fetchone()[0] == 1
                indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
                for name in ("events_room_time", "events_uid", "events_kind_time", "events_room_id_str",
                             "room_counts_room_time"):
                    assert name in indexes, (name, indexes)
                plan = " ".join(str(r) for r in db.execute(
                    "EXPLAIN QUERY PLAN SELECT * FROM events WHERE room = 3 AND received_at > 0"))
                assert "events_room_time" in plan, plan
                print("OK", sum(len(s) for s in seqs.values()))
                """
            let result = runPython(check, [path, "\(rooms)", "\(perRoom)"])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertEqual(result.output.split(separator: "\n").last.map(String.init), "OK \(rooms * perRoom)")
        }
    }

    /// Popularity (op 3) and watched counts go to `room_counts` as well as `events`; a replayed batch is not
    /// stored twice (the unique (room, id_str) index with INSERT OR IGNORE); reopening applies no migration twice.
    func testRoomCountsReplayIdempotenceAndReopen() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/counts.db"
            let sink = try SQLiteSink(path: path)
            var batch = (1...5).map { record(room: 7, seq: $0) }
            batch.append(
                SinkRecord(
                    room: 7, receivedAt: 9_000_000, kind: "popularity", cmd: "HEARTBEAT_REPLY",
                    count: 1234, json: Array("{\"kind\":\"popularity\"}".utf8)))
            batch.append(
                SinkRecord(
                    room: 7, receivedAt: 9_500_000, kind: "watched_change", cmd: "WATCHED_CHANGE",
                    count: 55, json: Array("{\"kind\":\"watched_change\"}".utf8)))
            try sink.write(batch)
            try sink.write(Array(batch[0..<5]))  // a replay of already-committed danmaku
            sink.close()
            let reopened = try SQLiteSink(path: path)
            reopened.close()
            let check = """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                assert db.execute("SELECT count(*) FROM events WHERE kind = 'danmaku'").fetchone()[0] == 5
                counts = db.execute("SELECT room, received_at, kind, value FROM room_counts ORDER BY received_at").fetchall()
                assert counts == [(7, 9, "popularity", 1234), (7, 9, "watched_change", 55)], counts
                assert db.execute("PRAGMA user_version").fetchone()[0] == 1
                print("OK")
                """
            let result = runPython(check, [path])
            XCTAssertEqual(result.status, 0, result.output)
        }
    }

    func testUnopenablePathIsAClearError() {
        XCTAssertThrowsError(try SQLiteSink(path: "/nonexistent-dir/x.db")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/x.db"), "\(error)")
        }
    }

    func testNewerSchemaIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/future.db"
            let made = runPython(
                "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version = 99')", [path])
            XCTAssertEqual(made.status, 0, made.output)
            XCTAssertThrowsError(try SQLiteSink(path: path)) { error in
                XCTAssertTrue("\(error)".contains("schema version 99"), "\(error)")
            }
        }
    }

    func testMissingLibraryNamesTheDebianPackage() {
        XCTAssertThrowsError(try SQLiteLibrary(name: "libsqlite3-not-here.so.0")) { error in
            XCTAssertTrue("\(error)".contains("libsqlite3-0"), "\(error)")
        }
    }
}
