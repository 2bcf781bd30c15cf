import EventLoop
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import danmu_cli

/// The CLI's output thread: many producers' small appends become few large writes, and output that cannot
/// drain (a pipe nobody reads) makes producers wait at the 64 MiB cap: memory stays bounded, nothing is lost.
final class OutputSinkTests: XCTestCase {
    /// 4 producers × 5,000 lines into a file with a 64 KiB threshold and no timer flush (maxDelay 30 s): every
    /// write but the last holds at least a threshold's worth, so at most total / 64 KiB + 1 writes happen
    /// (instead of 20,000), and the file holds every line once, each producer's lines in order.
    func testManySmallAppendsBecomeFewLargeWrites() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("out.jsonl")
        let threshold = 64 << 10
        let sink = OutputSink(
            destination: try OutputDestination(appendingTo: path, rotation: .never), flushThreshold: threshold,
            maxDelay: .seconds(30))
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
        XCTAssertLessThanOrEqual(
            statistics.writeBatches, text.utf8.count / threshold + 1,
            "\(statistics.writeBatches) writes for \(text.utf8.count) bytes: not batched")
        var next = [Int](repeating: 0, count: producers)
        for line in text.split(separator: "\n") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count == 2, numbers[0] < producers else { return XCTFail("bad line \(line)") }
            XCTAssertEqual(numbers[1], next[numbers[0]], "producer \(numbers[0]): lines in order, none lost")
            next[numbers[0]] = numbers[1] + 1
        }
        XCTAssertEqual(next, [Int](repeating: lines, count: producers))
    }

    /// A lone line is not held back until a batch fills: it is written within maxDelay, before close.
    func testASmallBatchIsWrittenAfterMaxDelayWithoutClose() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("out.jsonl")
        let sink = OutputSink(
            destination: try OutputDestination(appendingTo: path, rotation: .never), maxDelay: .milliseconds(20))
        defer { sink.close() }
        sink.append(Array("one line\n".utf8))
        XCTAssertTrue(pollUntil(timeout: .seconds(10), interval: .milliseconds(5)) { readText(path) == "one line\n" })
        XCTAssertEqual(sink.statistics().writeBatches, 1)
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
        let sink = OutputSink(destination: destination, maxDelay: .milliseconds(1))
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
