import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// The collector's small pure parts: the AUTH_REPLY code reader and the event stream's buffer.
final class CollectorPartsTests: XCTestCase {
    func testAuthReplyCodeParsesWhatServersSend() {
        XCTAssertEqual(AuthReply.code(Array(#"{"code":0}"#.utf8)), 0)
        XCTAssertEqual(AuthReply.code(Array(#"{"code": -101}"#.utf8)), -101)
        XCTAssertEqual(AuthReply.code(Array(#"{"msg":"x","code" : 7 }"#.utf8)), 7)
    }

    func testAuthReplyCodeRejectsGarbage() {
        XCTAssertNil(AuthReply.code([]))
        XCTAssertNil(AuthReply.code(Array("HTTP/0.9 403".utf8)))
        XCTAssertNil(AuthReply.code(Array(#"{"code":}"#.utf8)))
        XCTAssertNil(AuthReply.code(Array(#"{"code""#.utf8)))
        XCTAssertNil(AuthReply.code(Array(#"{"cod":0}"#.utf8)))
        // The old byte scanner read these as codes: a "code" inside a string, and a body that is not JSON.
        XCTAssertNil(AuthReply.code(Array(#"{"msg":""code":0"}"#.utf8)))
        XCTAssertNil(AuthReply.code(Array(#"garbage "code":0"#.utf8)))
    }

    /// The reply is parsed once, when the frame is cut; the decoder's event carries that same code, and a body
    /// without a code is a rejection to the session and a malformed message to the decoder (not a protocol error).
    func testAuthReplyIsParsedOnceAndTravelsWithTheFrame() throws {
        var frames = FrameDecoder(maxPacketLength: 1 << 20)
        var cut: [Frame] = []
        let bytes = Packet.authReply(code: -101) + Packet.encode(.authReply, body: Array(#"{"msg":"no"}"#.utf8))
        let failure: ProtocolError? = bytes.withUnsafeBytes { buffer in
            do throws(ProtocolError) {
                try frames.feed(buffer) { cut.append($0) }
                return nil
            } catch {
                return error
            }
        }
        XCTAssertNil(failure)
        XCTAssertEqual(cut.map(\.authReplyCode), [-101, nil])
        var decoder = MessageDecoder()
        XCTAssertEqual(try decoder.decode(cut[0]), [.authReply(code: -101)])
        XCTAssertEqual(try decoder.decode(cut[1]), [])
        XCTAssertEqual(decoder.statistics.malformedMessages, 1)
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
