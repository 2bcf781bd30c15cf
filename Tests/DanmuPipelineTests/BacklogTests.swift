import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuPipeline

/// The runner's backlog: a sink that is down, a restart with a spool left behind, a torn last record, the
/// configured drop limit.
final class BacklogTests: XCTestCase {
    private func configuration(spool: String?, budget: Int = 4096) -> SinkConfiguration {
        var c = SinkConfiguration()
        c.maxBatch = 64
        c.memoryBudgetBytes = budget
        c.spoolPath = spool
        c.retryInitial = .milliseconds(5)
        c.retryMax = .milliseconds(40)
        c.closeTimeout = .milliseconds(300)
        return c
    }

    private func assertExactlyOnceInOrder(
        _ records: [SinkRecord], rooms: Int, perRoom: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var seqs: [Int64: [Int]] = [:]
        for r in records {
            let seq = Int(r.idStr!.split(separator: "-").last!)!
            seqs[r.room, default: []].append(seq)
        }
        XCTAssertEqual(records.count, rooms * perRoom, "every record once", file: file, line: line)
        for room in 1...rooms {
            XCTAssertEqual(
                seqs[Int64(room)], Array(1...perRoom), "room \(room) in order, no gap or repeat",
                file: file, line: line)
        }
    }

    func testSinkDownThenRecoveredLosesNothingDuplicatesNothingKeepsOrder() throws {
        try withTemporaryDirectory { dir in
            let sink = RecordingSink(down: true)
            let runner = try SinkRunner(sink: sink, configuration: configuration(spool: dir + "/recording.spool"))
            let rooms = 4
            let perRoom = 500
            for seq in stride(from: 1, through: perRoom, by: 10) {
                for room in 1...rooms {
                    runner.submit((seq..<seq + 10).map { record(room: Int64(room), seq: $0) })
                }
            }
            let down = runner.statistics
            XCTAssertGreaterThan(down.spooled, 0, "over the memory budget, records go to the spool")
            XCTAssertGreaterThan(down.backlogBytes, 0)
            XCTAssertGreaterThan(down.failures, 0)
            sink.isDown = false
            XCTAssertTrue(waitFor { runner.statistics.written == rooms * perRoom }, "\(runner.statistics)")
            runner.close()
            let after = runner.statistics
            XCTAssertEqual(after.backlogBytes, 0, "the backlog drained")
            XCTAssertEqual(after.replayed, after.spooled)
            XCTAssertEqual(after.dropped, 0)
            assertExactlyOnceInOrder(sink.records, rooms: rooms, perRoom: perRoom)
        }
    }

    func testRestartReplaysWhatThePreviousRunLeftFirst() throws {
        try withTemporaryDirectory { dir in
            let spool = dir + "/restart.spool"
            let first = RecordingSink(down: true)
            let runner = try SinkRunner(sink: first, configuration: configuration(spool: spool))
            runner.submit((1...300).map { record(room: 1, seq: $0) })
            runner.close()  // still down after closeTimeout: memory queue and in-flight batch go in front
            XCTAssertEqual(first.records.count, 0)
            XCTAssertEqual(runner.statistics.dropped, 0)

            let second = RecordingSink()
            let again = try SinkRunner(sink: second, configuration: configuration(spool: spool))
            again.submit((301...400).map { record(room: 1, seq: $0) })
            XCTAssertTrue(waitFor { again.statistics.written == 400 }, "\(again.statistics)")
            again.close()
            assertExactlyOnceInOrder(second.records, rooms: 1, perRoom: 400)
            XCTAssertEqual(again.statistics.backlogBytes, 0)
        }
    }

    func testTornLastSpoolRecordIsSkippedAndCounted() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/torn.spool"
            do {
                let spool = try SpoolFile(path: path)
                try spool.append((1...10).map { record(room: 1, seq: $0) })
            }
            // A process killed in the middle of an append: the last record is cut short.
            var info = stat()
            XCTAssertEqual(stat(path, &info), 0)
            XCTAssertEqual(truncate(path, info.st_size - 3), 0)

            let warnings = Lock<[String]>([])
            var c = configuration(spool: path)
            c.onWarning = { message in warnings.withLock { $0.append(message) } }
            let sink = RecordingSink()
            let runner = try SinkRunner(sink: sink, configuration: c)
            XCTAssertEqual(runner.statistics.tornRecordsSkipped, 1)
            XCTAssertTrue(waitFor { runner.statistics.written == 9 }, "\(runner.statistics)")
            runner.close()
            assertExactlyOnceInOrder(sink.records, rooms: 1, perRoom: 9)
            XCTAssertEqual(warnings.withLock { $0.count { $0.contains("torn") } }, 1)
        }
    }

    func testCorruptChecksumEndsTheValidPart() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/corrupt.spool"
            do {
                let spool = try SpoolFile(path: path)
                try spool.append((1...3).map { record(room: 1, seq: $0) })
            }
            // Flip one byte of the last record's payload.
            let fd = open(path, O_RDWR)
            var info = stat()
            fstat(fd, &info)
            var byte: UInt8 = 0
            pread(fd, &byte, 1, info.st_size - 2)
            byte ^= 0xff
            pwrite(fd, &byte, 1, info.st_size - 2)
            close(fd)
            let spool = try SpoolFile(path: path)
            XCTAssertEqual(spool.tornRecordsSkipped, 1)
            XCTAssertEqual(spool.pendingRecords, 2)
        }
    }

    func testDropLimitIsTheOnlyLossCountedAndWarnedOnce() throws {
        try withTemporaryDirectory { dir in
            let warnings = Lock<[String]>([])
            var c = configuration(spool: dir + "/limit.spool", budget: 1024)
            c.spoolLimitBytes = 8192
            c.onWarning = { message in warnings.withLock { $0.append(message) } }
            let sink = RecordingSink(down: true)
            let runner = try SinkRunner(sink: sink, configuration: c)
            for seq in 1...400 { runner.submit([record(room: 1, seq: seq)]) }
            let s = runner.statistics
            XCTAssertGreaterThan(s.dropped, 0)
            XCTAssertEqual(s.submitted, 400)
            XCTAssertEqual(warnings.withLock { $0.count { $0.contains("limit") } }, 1, "warned once")
            sink.isDown = false
            XCTAssertTrue(waitFor { runner.statistics.written == 400 - s.dropped }, "\(runner.statistics)")
            runner.close()
            // What was kept is a prefix in order (the newest were dropped), nothing twice.
            let seqs = sink.records.map { Int($0.idStr!.split(separator: "-").last!)! }
            XCTAssertEqual(seqs, Array(1...seqs.count))
        }
    }

    func testWithoutSpoolTheSubmitterWaitsInsteadOfDropping() throws {
        let sink = RecordingSink(down: true)
        let runner = try SinkRunner(sink: sink, configuration: configuration(spool: nil, budget: 2048))
        let done = Lock(false)
        let thread = try PosixThread.spawn(name: "submitter") {
            for seq in 1...200 { runner.submit([record(room: 1, seq: seq)]) }
            done.withLock { $0 = true }
        }
        usleep(200_000)
        XCTAssertFalse(done.withLock { $0 }, "over the budget with no spool, submit blocks (backpressure)")
        sink.isDown = false
        thread.join()
        XCTAssertTrue(waitFor { runner.statistics.written == 200 })
        runner.close()
        XCTAssertEqual(sink.records.map(\.idStr), (1...200).map { "id-1-\($0)" })
    }

    /// While the sink is down, records are on disk even below the memory budget: the first failure moves the
    /// failed batch and the memory queue to the spool, so a SIGKILL then loses none of them.
    func testFirstFailureSpillsTheQueueToTheSpool() throws {
        try withTemporaryDirectory { dir in
            let spool = dir + "/spill.spool"
            let sink = RecordingSink(down: true)
            let runner = try SinkRunner(sink: sink, configuration: configuration(spool: spool, budget: 1 << 30))
            runner.submit((1...100).map { record(room: 1, seq: $0) })
            XCTAssertTrue(waitFor { runner.statistics.spooled == 100 }, "\(runner.statistics)")
            runner.submit((101...150).map { record(room: 1, seq: $0) })
            XCTAssertEqual(runner.statistics.spooled, 150, "later records go behind them")
            // What a SIGKILL now would leave: a second spool reader sees all 150, in order.
            let (records, _) = try SpoolFile(path: spool).read(limit: 1000)
            XCTAssertEqual(records.map(\.idStr), (1...150).map { "id-1-\($0)" })
            sink.isDown = false
            XCTAssertTrue(waitFor { runner.statistics.written == 150 }, "\(runner.statistics)")
            runner.close()
            XCTAssertEqual(sink.records.map(\.idStr), (1...150).map { "id-1-\($0)" })
        }
    }
}
