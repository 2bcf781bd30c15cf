import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// The SQLite sink's WAL handling (SQLiteCheckpointer) and its insert order, read back with Python's `sqlite3`.
final class SQLiteCheckpointTests: XCTestCase {
    /// Many small commits: the WAL passes the checkpoint threshold, the second connection checkpoints it, and the
    /// file stays under the documented bound (docs/sqlite.md) while every row is stored once.
    func testBackgroundCheckpointsBoundTheWAL() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/wal.db"
            let limits = SQLiteCheckpointer.Limits(
                thresholdBytes: 4 << 20, tailBytes: 512 << 10, hardLimitBytes: 16 << 20)
            let sink = try SQLiteSink(path: path, walLimits: limits)
            let rooms = 50
            let batches = 600
            var seq = 0
            var largestWAL = 0
            for _ in 0..<batches {
                var batch: [SinkRecord] = []
                for room in 1...rooms {
                    seq += 1
                    var r = record(room: Int64(room), seq: seq)
                    r.uid = Int64(seq * 7919 % 100_003)  // scattered over the uid index, as real senders are
                    batch.append(r)
                }
                try sink.write(batch)
                largestWAL = max(largestWAL, fileSize(path + "-wal"))
            }
            let runs = sink.checkpointsRun
            XCTAssertGreaterThan(runs.background, 0, "the WAL passed \(limits.thresholdBytes) bytes")
            // Twice the hard limit, plus the frames of one batch (at most one per row per index and the table, a
            // gross over-estimate), plus the header.
            let frame = 16_384 + 24
            let bound = (2 * limits.hardLimitBytes / 16_384 + 6 * rooms) * frame + 32
            XCTAssertLessThanOrEqual(largestWAL, bound, "checkpoints \(runs)")
            sink.close()
            let check = """
                import sqlite3, sys, collections
                db = sqlite3.connect(sys.argv[1])
                n = db.execute("SELECT count(*) FROM events").fetchone()[0]
                assert n == int(sys.argv[2]), n
                seqs = collections.defaultdict(list)
                for room, id_str in db.execute("SELECT room, id_str FROM events ORDER BY id"):
                    seqs[room].append(int(id_str.split("-")[2]))
                for room, got in seqs.items():
                    assert got == sorted(got) and len(got) == int(sys.argv[3]), (room, got[:5])
                print("OK")
                """
            let result = runPython(check, [path, "\(rooms * batches)", "\(batches)"])
            XCTAssertEqual(result.status, 0, result.output)
        }
    }

    /// Small commits back to back, as at 10 k events/s: a background pass never copies the whole WAL (commits
    /// land during it), so the WAL could only rewind at the hard limit; the writer copies the short tail a pass
    /// leaves instead (SQLiteCheckpointer), well before that limit, and every row is stored once.
    func testWriterCopiesTheTailSoTheWALRewindsBeforeTheHardLimit() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/tail.db"
            let limits = SQLiteCheckpointer.Limits(
                thresholdBytes: 8 << 20, tailBytes: 4 << 20, hardLimitBytes: 48 << 20)
            let sink = try SQLiteSink(path: path, walLimits: limits)
            let rooms = 5
            let batches = 3000
            var seq = 0
            for _ in 0..<batches {
                var batch: [SinkRecord] = []
                for room in 1...rooms {
                    seq += 1
                    var r = record(room: Int64(room), seq: seq)
                    r.uid = Int64(seq * 7919 % 100_003)
                    batch.append(r)
                }
                try sink.write(batch)
            }
            let runs = sink.checkpointsRun
            XCTAssertGreaterThan(runs.background, 0, "\(runs)")
            XCTAssertGreaterThan(runs.tails, 0, "no tail copied before the hard limit: \(runs)")
            sink.close()
            let result = runPython(
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                n, distinct = db.execute("SELECT count(*), count(DISTINCT room || ' ' || id_str) FROM events").fetchone()
                assert n == distinct == int(sys.argv[2]), (n, distinct)
                print("OK")
                """, [path, "\(rooms * batches)"])
            XCTAssertEqual(result.status, 0, result.output)
        }
    }

    /// Within one batch, rows are inserted grouped by room (locality for the room-first indexes), each room's rows
    /// in arrival order.
    func testBatchIsInsertedByRoomInArrivalOrder() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/order.db"
            let sink = try SQLiteSink(path: path)
            let arrival: [Int64] = [3, 1, 2, 3, 1, 2, 2, 3, 1]
            try sink.write(arrival.enumerated().map { record(room: $0.element, seq: $0.offset + 1) })
            sink.close()
            let result = runPython(
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                print(" ".join(f"{r}:{s}" for r, s in db.execute("SELECT room, id_str FROM events ORDER BY id")))
                """, [path])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertEqual(
                result.output.split(separator: "\n").last.map(String.init),
                "1:id-1-2 1:id-1-5 1:id-1-9 2:id-2-3 2:id-2-6 2:id-2-7 3:id-3-1 3:id-3-4 3:id-3-8")
        }
    }

    private func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
