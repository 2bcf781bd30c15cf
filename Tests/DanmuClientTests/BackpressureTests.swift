import DanmuSimulator
import Glibc
import Synchronization
import XCTest

@testable import DanmuClient

/// A handler that blocks: its room's socket pauses, memory stays bounded, and afterwards everything arrives.
final class BackpressureTests: XCTestCase {
    func testBlockingHandlerPausesItsSocketAndLosesNothing() throws {
        let messages = 6_000
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...2), ratePerRoom: 0, messageLimitPerRoom: messages, batchSize: 20, mix: danmakuOnly,
                  maxQueuedBytesPerConnection: 256 << 10))
        defer { simulator.close() }

        let blocked = Atomic<Bool>(true)
        let recorder = SequenceRecorder { room, seq in
            // Room 1 stalls on its 10th message until the test lets it go.
            guard room == 1, seq == 10 else { return }
            while blocked.load(ordering: .acquiring) { usleep(5_000) }
        }
        var configuration = testCollectorConfiguration(server: simulator.server, workers: 2)
        configuration.queueHighWatermark = 32 << 10
        configuration.queueLowWatermark = 8 << 10
        let collector = try DanmuCollector(configuration: configuration)
        collector.setHandler(recorder)
        try collector.start()
        collector.add(rooms: [1, 2])

        // Room 2 is not held back by room 1.
        XCTAssertTrue(waitUntil(timeout: .seconds(30)) { recorder.count(2) == messages }, "room 2: \(recorder.count(2))")
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

        blocked.store(false, ordering: .releasing)
        XCTAssertTrue(waitUntil(timeout: .seconds(30)) { recorder.count(1) == messages }, "room 1: \(recorder.count(1))")
        XCTAssertEqual(recorder.seqs(1), Array(1...UInt64(messages)))
        XCTAssertEqual(recorder.seqs(2), Array(1...UInt64(messages)))
        XCTAssertEqual(recorder.violations, 0)
        XCTAssertEqual(collector.statistics().reconnects, 0)
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
        let stream = collector.events
        try collector.start()
        collector.add(rooms: 1...4)

        var last: [Int64: UInt64] = [:]
        var received = 0
        var maxBuffered = 0
        for await event in stream {
            guard case .danmaku(let danmaku) = event.event,
                  let id = danmaku.idStr.flatMap({ SimulatedMessageID(idStr: $0) })
            else { continue }
            XCTAssertEqual(id.seq, (last[event.room] ?? 0) + 1, "room \(event.room)")
            last[event.room] = id.seq
            received += 1
            if received % 200 == 0 {
                maxBuffered = max(maxBuffered, stream.buffer.count)
                usleep(20_000)  // a slow consumer
            }
            if received == 4 * messages { break }
        }
        XCTAssertEqual(received, 4 * messages)
        let pauses = collector.statistics().rooms.reduce(0) { $0 + $1.readPauses }
        XCTAssertGreaterThan(pauses, 0, "the slow consumer never paused the sockets")
        // Bounded: the high mark plus what was already decoded in flight (4 rooms × a queue's worth).
        XCTAssertLessThan(maxBuffered, 500 + 4 * 2_000)
        collector.shutdown()
    }
}
