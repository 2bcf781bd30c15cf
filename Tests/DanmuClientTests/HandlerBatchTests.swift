import DanmuSimulator
import EventLoop
import Glibc
import Synchronization
import XCTest

@testable import DanmuClient

/// `DanmuHandler.handle(batch:)`: one call per read, the room's events in order; the default forwards each event.
final class HandlerBatchTests: XCTestCase {
    private final class BatchRecorder: DanmuHandler, @unchecked Sendable {
        let state = Lock<(batches: Int, largest: Int, seqs: [UInt64], mixedRooms: Int)>((0, 0, [], 0))

        func handle(batch: [RoomEvent]) {
            state.withLock { state in
                state.batches += 1
                state.largest = max(state.largest, batch.count)
                if Set(batch.map(\.room)).count > 1 { state.mixedRooms += 1 }
                for event in batch {
                    if case .danmaku(let danmaku) = event.event, let id = danmaku.idStr.flatMap(SimulatedMessageID.init)
                    {
                        state.seqs.append(id.seq)
                    }
                }
            }
        }
    }

    func testBatchHandlerGetsWholeReadsInOrder() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...1), ratePerRoom: 0, messageLimitPerRoom: 500, batchSize: 20, mix: danmakuOnly))
        defer { simulator.close() }
        let recorder = BatchRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: simulator.server), handler: recorder, rooms: [1])
        defer { collector.shutdown() }
        XCTAssertTrue(waitUntil { recorder.state.withLock { $0.seqs.count } == 500 })
        let state = recorder.state.withLock { $0 }
        XCTAssertEqual(state.seqs, Array(1...500))
        XCTAssertGreaterThan(state.largest, 1, "a batch of 20 messages must arrive as one call")
        XCTAssertLessThan(state.batches, 500, "one call per read, not per event")
        XCTAssertEqual(state.mixedRooms, 0, "a batch holds one room's events")
    }

    func testDefaultBatchForwardsEachEventToTheTypedMethods() {
        final class TypedOnly: DanmuHandler, @unchecked Sendable {
            var texts: [String] = []
            var others = 0
            func danmaku(room: Int64, _ danmaku: Danmaku) { texts.append("\(room):\(danmaku.text)") }
            func other(_ event: RoomEvent) { others += 1 }
        }
        let handler = TypedOnly()
        var first = Danmaku()
        first.text = "a"
        var second = Danmaku()
        second.text = "b"
        handler.handle(batch: [
            RoomEvent(room: 7, receivedAt: 0, event: .danmaku(first)),
            RoomEvent(room: 7, receivedAt: 0, event: .popularity(3)),
            RoomEvent(room: 7, receivedAt: 0, event: .danmaku(second)),
        ])
        XCTAssertEqual(handler.texts, ["7:a", "7:b"])
        XCTAssertEqual(handler.others, 1)
    }
}
