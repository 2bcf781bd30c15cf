import DanmuClient
import EventLoop
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import danmu_cli

/// The CLI's output thread: group commit (a line to an idle sink is written at once, batches grow only while a
/// write is in flight), many producers' lines arrive whole and in order, and output that cannot drain (a pipe
/// nobody reads) makes producers wait at the 64 MiB cap: memory stays bounded, nothing is lost.
final class OutputSinkTests: XCTestCase {
    /// 4 producers × 5,000 lines into a file: the file holds every line once, each producer's lines in order, and
    /// the statistics count every byte.
    func testManyProducersLinesArriveWholeAndInOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("out.jsonl")
        let sink = OutputSink(destination: try OutputDestination(appendingTo: path, rotation: .never))
        let producers = 4
        let lines = 5_000
        let threads = (0..<producers).map { producer in
            PosixThread.startOrExit(name: "test-producer") {
                for index in 0..<lines {
                    sink.append(Array("{\"producer\":\(producer),\"index\":\(index),\"pad\":\"xxxxxxxxxx\"}\n".utf8))
                }
            }
        }
        threads.forEach { $0.join() }
        let statistics = sink.close()
        let text = readText(path)
        XCTAssertNil(statistics.failure)
        XCTAssertEqual(statistics.bytesWritten, text.utf8.count)
        XCTAssertEqual(statistics.appends, producers * lines)
        var next = [Int](repeating: 0, count: producers)
        for line in text.split(separator: "\n") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count == 2, numbers[0] < producers else { return XCTFail("bad line \(line)") }
            XCTAssertEqual(numbers[1], next[numbers[0]], "producer \(numbers[0]): lines in order, none lost")
            next[numbers[0]] = numbers[1] + 1
        }
        XCTAssertEqual(next, [Int](repeating: lines, count: producers))
    }

    /// Issue 11: the sink waited up to `maxDelay` (100 ms on a pipe) for a batch to grow, which was the whole
    /// latency of `danmu-cli listen`. Now a line appended to an idle sink is written by the writer the append woke,
    /// alone, while the producer waits and nothing else happens — no timer, no close, no second line. Three times
    /// over, each line its own write.
    func testALineToAnIdleSinkIsWrittenAtOnceWithoutATimerOrClose() {
        let destination = RecordingDestination()
        let sink = OutputSink(destination: destination)
        defer { sink.close() }
        for index in 1...3 {
            let line = Array("line \(index)\n".utf8)
            sink.append(line)
            XCTAssertTrue(destination.waitForWrites(index), "line \(index) was not written while the sink was idle")
            XCTAssertEqual(destination.writes.last, line)
        }
        XCTAssertEqual(destination.writes.count, 3)
        // The counters are updated after a write returns: read them once the sink has stopped.
        XCTAssertEqual(sink.close().writeBatches, 3)
    }

    /// Group commit: while the first line's write is in flight (the destination holds it), 100 more lines are
    /// appended; when it returns, the writer takes all of them as ONE write. Then the sink is idle again and the
    /// next line is written alone.
    func testBatchesGrowWhileAWriteIsInFlight() {
        let destination = RecordingDestination(holdFirstWrite: true)
        let sink = OutputSink(destination: destination)
        defer { sink.close() }
        sink.append(Array("first\n".utf8))
        XCTAssertTrue(destination.waitUntilHeld(), "the first write did not start")
        var expected: [UInt8] = []
        for index in 0..<100 {
            let line = Array("queued \(index)\n".utf8)
            expected += line
            sink.append(line)
        }
        destination.release()
        XCTAssertTrue(destination.waitForWrites(2))
        XCTAssertEqual(destination.writes.count, 2, "the 100 lines queued behind one write became one write")
        XCTAssertEqual(destination.writes[0], Array("first\n".utf8))
        XCTAssertEqual(destination.writes[1], expected)
        sink.append(Array("after\n".utf8))
        XCTAssertTrue(destination.waitForWrites(3))
        XCTAssertEqual(destination.writes[2], Array("after\n".utf8))
        let statistics = sink.close()
        XCTAssertEqual(statistics.writeBatches, 3)
        XCTAssertEqual(statistics.bytesWritten, 6 + expected.count + 6)
    }

    /// `EventPrinter.handle(batch:)` formats a whole handler batch into the sink's buffer with one append (one
    /// lock), and the --events filter applies inside it: 5 events of which 3 pass make one append and 3 lines.
    func testAHandlerBatchIsOneAppendAndFormattedInPlace() throws {
        let destination = RecordingDestination()
        let sink = OutputSink(destination: destination)
        let printer = EventPrinter(format: .jsonl, kinds: [.danmaku], sink: sink)
        let danmaku = try sampleDanmaku()
        let popularity = DanmuEvent.popularity(7)
        let batch = [danmaku, popularity, danmaku, popularity, danmaku].enumerated().map {
            RoomEvent(room: Int64(10 + $0.offset), receivedAt: 1_700_000_000_000_000_000, event: $0.element)
        }
        printer.handle(batch: batch)
        let statistics = sink.close()
        XCTAssertEqual(statistics.appends, 1, "one lock for the whole batch")
        XCTAssertEqual(printer.eventsSeen, 5)
        XCTAssertEqual(printer.eventsWritten, 3)
        let text = String(decoding: destination.writes.joined(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for (line, room) in zip(lines, [10, 12, 14]) {
            XCTAssertTrue(line.hasPrefix("{\"room\":\(room),\"cmd\":\"DANMU_MSG\""), "\(line)")
        }
    }

    /// The bench-output sample decoded once (a real 2024 DANMU_MSG).
    private func sampleDanmaku() throws -> DanmuEvent {
        var decoder = MessageDecoder()
        let packet = Packet.encode(
            .message, protover: 0, body: Array(BenchOutputCommand.sample.utf8))
        let header = try XCTUnwrap(PacketHeader(parsing: packet))
        return try XCTUnwrap(decoder.decode(Frame(header: header, body: Array(packet[16...]))).first)
    }

    /// The default sink (256 KiB batches, 64 MiB cap) writing into a full pipe that nobody reads: two producers
    /// appending 1 MiB chunks are blocked once about 64 MiB is pending — they do not finish, memory does not
    /// grow past the cap, nothing is dropped — and once a reader drains the pipe every byte arrives, each
    /// producer's chunks in order.
    func testStuckPipeMakesProducersWaitAtTheCapAndLosesNothing() throws {
        var fds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, 4096)
        // Fill the pipe, so the sink's very first write blocks.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        var prefilled = 0
        let filler = [UInt8](repeating: 0x2E, count: 4096)
        while true {
            let n = write(fds[1], filler, filler.count)
            if n <= 0 { break }
            prefilled += n
        }
        XCTAssertGreaterThan(prefilled, 0)
        // The sink gets its own blocking descriptor for the pipe; ours is closed so the sink holds the only one.
        let destination = try OutputDestination(appendingTo: "/proc/self/fd/\(fds[1])", rotation: .never)
        close(fds[1])
        let capacity = 64 << 20
        let sink = OutputSink(destination: destination)
        // A first line: the sink takes it out of the pending buffer and blocks writing it into the full pipe.
        sink.append(Array("prime\n".utf8))
        usleep(200_000)

        let chunk = 1 << 20
        let chunksPerProducer = 70  // each producer alone offers more than the cap
        let accepted = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let producers = (0..<2).map { producer in
            PosixThread.startOrExit(name: "test-producer") {
                for index in 0..<chunksPerProducer {
                    sink.append(Self.chunk(producer: producer, index: index, size: chunk))
                    accepted.add(chunk, ordering: .relaxed)
                }
                finished.add(1, ordering: .relaxed)
            }
        }
        // Wait until the producers stop making progress (blocked in append).
        var last = -1
        var unchanged = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while unchanged < 5 && ContinuousClock.now < deadline {
            usleep(100_000)
            let now = accepted.load(ordering: .relaxed)
            unchanged = now == last ? unchanged + 1 : 0
            last = now
        }
        let blockedAt = accepted.load(ordering: .relaxed)
        XCTAssertEqual(finished.load(ordering: .relaxed), 0, "a producer finished: the cap did not hold")
        XCTAssertGreaterThanOrEqual(blockedAt, capacity - chunk, "producers blocked below the cap")
        XCTAssertLessThanOrEqual(blockedAt, capacity + 4 * chunk, "pending grew past the cap: \(blockedAt) bytes")
        print("producers blocked with \(blockedAt) bytes accepted (cap \(capacity))")
        XCTAssertEqual(sink.statistics().bytesWritten, 0, "nothing can have been written yet")

        // Drain: every byte arrives, the prime line first, then whole chunks, each producer's in order.
        let reader = PipeReader(fd: fds[0])
        XCTAssertEqual(reader.read(prefilled), filler.prefix(prefilled).map { $0 })
        XCTAssertEqual(reader.read(6), Array("prime\n".utf8))
        var nextIndex = [0, 0]
        for _ in 0..<(2 * chunksPerProducer) {
            let bytes = reader.read(chunk)
            guard bytes.count == chunk else { return XCTFail("short read: \(bytes.count) bytes") }
            guard bytes[0] >= 0x30 else { return XCTFail("unexpected chunk byte \(bytes[0])") }
            let producer = Int(bytes[0] - 0x30) % 2
            XCTAssertTrue(
                bytes == Self.chunk(producer: producer, index: nextIndex[producer], size: chunk),
                "producer \(producer): chunk \(nextIndex[producer]) expected, got another or damaged")
            nextIndex[producer] += 1
        }
        producers.forEach { $0.join() }
        let statistics = sink.close()
        XCTAssertEqual(nextIndex, [chunksPerProducer, chunksPerProducer])
        XCTAssertNil(statistics.failure)
        XCTAssertEqual(statistics.bytesWritten, 6 + 2 * chunksPerProducer * chunk)
    }

    /// Chunk `index` of `producer`: one repeated byte naming the producer and the index modulo 64 (never a
    /// newline), ending in "\n".
    static func chunk(producer: Int, index: Int, size: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: UInt8(0x30 + (index % 64) * 2 + producer), count: size)
        bytes[size - 1] = 10
        return bytes
    }
}

/// A destination that records every write call's bytes; with `holdFirstWrite`, the first write blocks until
/// `release()` (a write in flight, for as long as the test wants). Waits are bounded (30 s) and report failure.
private final class RecordingDestination: OutputWriting, @unchecked Sendable {
    private struct State {
        var writes: [[UInt8]] = []
        var holding = false
        var released = false
    }
    private let state = ConditionLock(State())
    private let holdFirstWrite: Bool

    init(holdFirstWrite: Bool = false) { self.holdFirstWrite = holdFirstWrite }

    var rotatedFiles: [String] { [] }
    var writes: [[UInt8]] { state.withLock { $0.writes } }

    func write(_ chunk: UnsafeRawBufferPointer) -> String? {
        let hold = state.withLock { state -> Bool in
            guard holdFirstWrite, state.writes.isEmpty, !state.released else { return false }
            state.holding = true
            return true
        }
        if hold {
            state.broadcast()
            state.withLock(waitingUntil: { $0.released }) { _, _ in }
        }
        state.withLock { $0.writes.append(Array(chunk)) }
        state.broadcast()
        return nil
    }

    func waitUntilHeld() -> Bool {
        state.withLock(waitingUntil: { $0.holding }, deadline: Self.deadline()) { _, held in held }
    }

    func release() {
        state.withLock { $0.released = true }
        state.broadcast()
    }

    func waitForWrites(_ count: Int) -> Bool {
        state.withLock(waitingUntil: { $0.writes.count >= count }, deadline: Self.deadline()) { _, done in done }
    }

    private static func deadline() -> UInt64 { SystemClock.monotonicNanoseconds() + 30_000_000_000 }
}

/// Reads exact byte counts from a blocking descriptor.
private struct PipeReader {
    let fd: Int32
    func read(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }
}
