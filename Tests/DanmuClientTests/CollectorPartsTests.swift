import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// The collector's small pure parts: the AUTH_REPLY code reader and the event stream's buffer.
final class CollectorPartsTests: XCTestCase {
    func testAuthReplyCodeParsesWhatServersSend() {
        XCTAssertEqual(AuthReplyCode.parse(Array(#"{"code":0}"#.utf8)), 0)
        XCTAssertEqual(AuthReplyCode.parse(Array(#"{"code": -101}"#.utf8)), -101)
        XCTAssertEqual(AuthReplyCode.parse(Array(#"{"msg":"x","code" : 7 }"#.utf8)), 7)
    }

    func testAuthReplyCodeRejectsGarbage() {
        XCTAssertNil(AuthReplyCode.parse([]))
        XCTAssertNil(AuthReplyCode.parse(Array("HTTP/0.9 403".utf8)))
        XCTAssertNil(AuthReplyCode.parse(Array(#"{"code":}"#.utf8)))
        XCTAssertNil(AuthReplyCode.parse(Array(#"{"code""#.utf8)))
        XCTAssertNil(AuthReplyCode.parse(Array(#"{"cod":0}"#.utf8)))
    }

    private func event(_ room: Int64, _ n: Int) -> RoomEvent {
        RoomEvent(room: room, receivedAt: Int64(n), event: .popularity(UInt32(n)))
    }

    func testStreamBufferSignalsPressureAtHighMarkAndReleaseAtLowMark() async throws {
        let signals = Lock<[Bool]>([])
        let buffer = EventStreamBuffer(highWatermark: 10, lowWatermark: 3) { value in
            signals.withLock { $0.append(value) }
        }
        buffer.push((1...10).map { event(1, $0) })
        XCTAssertFalse(buffer.isPressured)
        buffer.push([event(1, 11)])
        XCTAssertTrue(buffer.isPressured)
        XCTAssertEqual(signals.withLock { $0 }, [true])
        for expected in 1...7 {
            let next = try await buffer.next()
            XCTAssertEqual(next?.receivedAt, Int64(expected))
        }
        XCTAssertTrue(buffer.isPressured, "4 left, low mark is 3")
        _ = try await buffer.next()
        XCTAssertFalse(buffer.isPressured)
        XCTAssertEqual(signals.withLock { $0 }, [true, false])
    }

    func testStreamBufferWakesWaitingConsumerAndEndsAfterFinish() async throws {
        let buffer = EventStreamBuffer(highWatermark: 100, lowWatermark: 10) { _ in }
        let consumer = Task { () -> [Int64] in
            var seen: [Int64] = []
            for try await event in RoomEventStream(buffer: buffer) { seen.append(event.receivedAt) }
            return seen
        }
        for n in 1...50 {
            buffer.push([event(2, n)])
            if n % 10 == 0 { await Task.yield() }
        }
        buffer.finish()
        let seen = try await consumer.value
        XCTAssertEqual(seen, (1...50).map(Int64.init))
    }

    func testStreamBufferKeepsOrderAcrossCompaction() async throws {
        let buffer = EventStreamBuffer(highWatermark: 1 << 20, lowWatermark: 0) { _ in }
        var expected: Int64 = 1
        var produced = 0
        for _ in 0..<20 {
            buffer.push((1...500).map { event(3, produced + $0) })
            produced += 500
            for _ in 0..<300 {
                let next = try await buffer.next()
                XCTAssertEqual(next?.receivedAt, expected)
                expected += 1
            }
        }
        buffer.finish()
        while let next = try await buffer.next() {
            XCTAssertEqual(next.receivedAt, expected)
            expected += 1
        }
        XCTAssertEqual(expected, Int64(produced) + 1)
    }
}
