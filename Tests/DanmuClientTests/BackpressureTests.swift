import DanmuSimulator
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import DanmuClient

/// A handler that blocks: its room's socket pauses, memory stays bounded, and afterwards everything arrives.
final class BackpressureTests: XCTestCase {
    func testBlockingHandlerPausesItsSocketAndLosesNothing() throws {
        let messages = 6_000
        let simulator = try SimulatorHarness(
            .init(
                rooms: .range(1...2), ratePerRoom: 0, messageLimitPerRoom: messages, batchSize: 20, mix: danmakuOnly,
                maxQueuedBytesPerConnection: 256 << 10))
        defer { simulator.close() }

        // Room 1 stalls on its 10th message until the test lets it go.
        let blocked = BlockFlag()
        let (collector, recorder) = try startStalledCollector(
            simulator, workers: 2, rooms: [1, 2], stalledRoom: 1, blocked: blocked)

        // Room 2 is not held back by room 1.
        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) { recorder.count(2) == messages }, "room 2: \(recorder.count(2))")
        XCTAssertTrue(waitUntil { (collector.statistics()[room: 1]?.readPauses ?? 0) >= 1 }, "room 1 never paused")
        // While blocked, room 1's intake stays bounded: its queue high mark plus what was in flight, far below
        // what the simulator would push (thousands of ~1 KB messages).
        let pausedBytes = collector.statistics()[room: 1]?.bytesReceived ?? 0
        usleep(300_000)
        let laterBytes = collector.statistics()[room: 1]?.bytesReceived ?? 0
        XCTAssertLessThan(laterBytes, 1 << 20, "room 1 kept reading while its handler was blocked")
        XCTAssertLessThan(laterBytes - pausedBytes, 256 << 10)
        XCTAssertEqual(recorder.count(1), 9)
        XCTAssertEqual(collector.statistics()[room: 1]?.phase, .live, "the watchdog must not punish our own pause")

        blocked.value.store(false, ordering: .releasing)
        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) { recorder.count(1) == messages }, "room 1: \(recorder.count(1))")
        XCTAssertEqual(recorder.seqs(1), Array(1...UInt64(messages)))
        XCTAssertEqual(recorder.seqs(2), Array(1...UInt64(messages)))
        XCTAssertEqual(recorder.violations, 0)
        XCTAssertEqual(collector.statistics().reconnects, 0)
        collector.shutdown()
    }

    /// The throughput bench's missed-events report reads these two fields to tell a lost resume (paused, queue
    /// empty) from a server that stopped sending (not paused) or a slow handler (paused, queue full).
    func testStatisticsShowAPausedRoomAndItsQueuedBytes() throws {
        let messages = 2_000
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...1), ratePerRoom: 0, messageLimitPerRoom: messages, batchSize: 20, mix: danmakuOnly))
        defer { simulator.close() }
        let blocked = BlockFlag()
        let (collector, recorder) = try startStalledCollector(
            simulator, workers: 1, rooms: [1], stalledRoom: nil, blocked: blocked)

        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) { collector.statistics()[room: 1]?.isReadingPaused == true },
            "room 1 never reported its socket paused")
        let paused = collector.statistics()[room: 1]
        XCTAssertGreaterThan(paused?.queuedBytes ?? 0, 32 << 10, "a paused room holds more than its high mark")

        blocked.value.store(false, ordering: .releasing)
        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) { recorder.count(1) == messages }, "room 1: \(recorder.count(1))")
        XCTAssertTrue(
            waitUntil { collector.statistics()[room: 1].map { !$0.isReadingPaused && $0.queuedBytes == 0 } ?? false },
            "after the drain: \(String(describing: collector.statistics()[room: 1]))")
        collector.shutdown()
    }

    func testSlowStreamConsumerPausesReadingAndLosesNothing() async throws {
        let messages = 3_000
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...4), ratePerRoom: 0, messageLimitPerRoom: messages, batchSize: 20, mix: danmakuOnly))
        defer { simulator.close() }
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.streamHighWatermark = 500
        configuration.streamLowWatermark = 100
        let collector = try DanmuCollector(configuration: configuration)
        let stream = collector.makeEventStream()
        try collector.start()
        collector.add(rooms: 1...4)

        var order = StreamOrder()
        var maxBuffered = 0
        let outcome = try await iterate(stream, deadline: .seconds(120), onDeadline: { collector.shutdown() }) {
            event in
            guard order.record(event) else { return true }
            if order.received % 200 == 0 {
                maxBuffered = max(maxBuffered, stream.buffer.count)
                usleep(20_000)  // a slow consumer
            }
            return order.received < 4 * messages
        }
        XCTAssertFalse(outcome.timedOut, "\(outcome): danmaku per room \(order.last.sorted { $0.key < $1.key })")
        XCTAssertEqual(order.received, 4 * messages, "last seq per room: \(order.last.sorted { $0.key < $1.key })")
        let pauses = collector.statistics().rooms.reduce(0) { $0 + $1.readPauses }
        XCTAssertGreaterThan(pauses, 0, "the slow consumer never paused the sockets")
        // Bounded: the high mark plus what was already decoded in flight (4 rooms × a queue's worth).
        XCTAssertLessThan(maxBuffered, 500 + 4 * 2_000)
        collector.shutdown()
    }

    /// The stream watermark pauses EVERY room, not just busy ones: once all rooms are live and delivering, the
    /// consumer stops taking events; the buffer passes streamHighWatermark and every room's socket reports
    /// isReadingPaused at the same time. When the consumer takes events again, every room resumes and each
    /// delivers exactly 1...N, in order.
    func testStreamWatermarkPausesEverySocketAndResumesLosslessly() async throws {
        let messages = 3_000
        let rooms: [Int64] = [1, 2, 3, 4]
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...4), ratePerRoom: 0, messageLimitPerRoom: messages, batchSize: 20, mix: danmakuOnly))
        defer { simulator.close() }
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.streamHighWatermark = 200
        configuration.streamLowWatermark = 50
        // Queues that never fill (the whole run is ~7 MB): every pause seen here is the stream's.
        configuration.queueHighWatermark = 1 << 30
        configuration.queueLowWatermark = 1 << 29
        configuration.globalByteCap = 1 << 31
        let collector = try DanmuCollector(configuration: configuration)
        let stream = collector.makeEventStream()
        try collector.start()
        collector.add(rooms: 1...4)

        var order = StreamOrder()
        var stalled = false
        var everyRoomPaused = false
        var pausedSnapshot = ""
        let outcome = try await iterate(stream, deadline: .seconds(120), onDeadline: { collector.shutdown() }) {
            event in
            guard order.record(event) else { return true }
            // Once every room has delivered, stop consuming until every socket is paused (or 30 s pass).
            if !stalled && rooms.allSatisfy({ (order.last[$0] ?? 0) >= 20 }) {
                stalled = true
                everyRoomPaused = pollUntil(timeout: .seconds(30), interval: .milliseconds(5)) {
                    let statistics = collector.statistics()
                    return rooms.allSatisfy { statistics[room: $0]?.isReadingPaused == true }
                }
                let statistics = collector.statistics()
                pausedSnapshot =
                    rooms.map { "\($0): paused \(statistics[room: $0]?.isReadingPaused ?? false)" }
                    .joined(separator: ", ") + "; buffered \(stream.buffer.count)"
            }
            return order.received < rooms.count * messages
        }
        XCTAssertFalse(outcome.timedOut, "\(outcome): last seq per room \(order.last.sorted { $0.key < $1.key })")
        XCTAssertTrue(stalled, "the rooms never all delivered: \(order.last)")
        XCTAssertTrue(everyRoomPaused, "not every socket paused while the consumer stalled: \(pausedSnapshot)")
        for room in rooms {
            XCTAssertEqual(order.last[room], UInt64(messages), "room \(room): 1...\(messages) delivered")
        }
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(10)) {
                let statistics = collector.statistics()
                return rooms.allSatisfy { statistics[room: $0]?.isReadingPaused == false }
            }, "every room resumes after the consumer caught up: \(collector.statistics().rooms)")
        let statistics = collector.statistics()
        for room in rooms {
            XCTAssertGreaterThanOrEqual(statistics[room: room]?.readPauses ?? 0, 1, "room \(room) was paused")
            XCTAssertEqual(statistics[room: room]?.reconnects, 0, "room \(room): pausing is not a failure")
        }
        collector.shutdown()
    }

    /// Graceful shutdown: frames already read but still queued behind a blocked handler are all delivered
    /// before `shutdown()` returns, in order.
    func testShutdownDeliversEverythingAlreadyReceived() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...1), ratePerRoom: 0, messageLimitPerRoom: 5_000, batchSize: 1, mix: danmakuOnly))
        defer { simulator.close() }
        let blocked = BlockFlag()
        let (collector, recorder) = try startStalledCollector(
            simulator, workers: 1, rooms: [1], stalledRoom: nil, blocked: blocked)
        XCTAssertTrue(waitUntil { (collector.statistics()[room: 1]?.readPauses ?? 0) >= 1 }, "never paused")
        XCTAssertTrue(waitUntil { recorder.count(1) == 9 }, "the handler did not reach its block: \(recorder.count(1))")
        let framesRead = collector.statistics()[room: 1]?.framesReceived ?? 0

        // Let the handler go a little after shutdown has begun (shutdown waits for the workers).
        var releaser = pthread_t()
        pthread_create(
            &releaser, nil,
            { argument in
                let flag = Unmanaged<BlockFlag>.fromOpaque(argument!).takeRetainedValue()
                usleep(200_000)
                flag.value.store(false, ordering: .releasing)
                return nil
            }, Unmanaged.passRetained(blocked).toOpaque())
        collector.shutdown()
        pthread_join(releaser, nil)

        let delivered = recorder.count(1)
        let statistics = try XCTUnwrap(collector.statistics()[room: 1])
        XCTAssertGreaterThan(delivered, 9 + 10, "queued frames were not delivered during shutdown")
        XCTAssertEqual(recorder.seqs(1), Array(1...UInt64(delivered)))
        XCTAssertEqual(statistics.eventsByKind[.danmaku], delivered)
        XCTAssertGreaterThanOrEqual(statistics.framesReceived, framesRead)
        // One message per op-5 frame: every frame read (minus AUTH_REPLY and heartbeat replies) was delivered.
        let controlFrames = (statistics.eventsByKind[.authReply] ?? 0) + (statistics.eventsByKind[.popularity] ?? 0)
        XCTAssertEqual(delivered, statistics.framesReceived - controlFrames)
        XCTAssertEqual(recorder.violations, 0)
    }

    /// A collector whose handler stalls `stalledRoom` (nil: every room) on its 10th message while `blocked` holds,
    /// with small queue marks (32 KB high, 8 KB low) so that a stalled room's socket pauses soon; started, `rooms`
    /// added (the caller shuts it down).
    private func startStalledCollector(
        _ simulator: SimulatorHarness, workers: Int, rooms: [Int64], stalledRoom: Int64?, blocked: BlockFlag
    ) throws -> (DanmuCollector, SequenceRecorder) {
        let recorder = SequenceRecorder { room, seq in
            guard seq == 10, stalledRoom == nil || room == stalledRoom else { return }
            while blocked.value.load(ordering: .acquiring) { usleep(5_000) }
        }
        var configuration = testCollectorConfiguration(server: simulator.server, workers: workers)
        configuration.queueHighWatermark = 32 << 10
        configuration.queueLowWatermark = 8 << 10
        return (try startCollector(configuration, handler: recorder, rooms: rooms), recorder)
    }
}

/// A flag shared by the blocked handler and the thread that releases it.
private final class BlockFlag: Sendable {
    let value = Atomic<Bool>(true)
}

/// The per-room order check of a stream of the simulator's danmaku: each one's seq follows its room's last.
private struct StreamOrder {
    var last: [Int64: UInt64] = [:]
    var received = 0

    /// Counts `event` and asserts its order when it is a simulator danmaku; false for any other event.
    mutating func record(_ event: RoomEvent, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard case .danmaku(let danmaku) = event.event,
            let id = danmaku.idStr.flatMap({ SimulatedMessageID(idStr: $0) })
        else { return false }
        XCTAssertEqual(id.seq, (last[event.room] ?? 0) + 1, "room \(event.room)", file: file, line: line)
        last[event.room] = id.seq
        received += 1
        return true
    }
}
