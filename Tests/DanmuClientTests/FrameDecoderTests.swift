import TestSupport
import XCTest
@testable import DanmuClient

final class FrameDecoderTests: XCTestCase {
    private func decodeAll(_ chunks: [[UInt8]], maxPacketLength: Int = 1 << 20) throws -> [Frame] {
        var decoder = FrameDecoder(maxPacketLength: maxPacketLength)
        var frames: [Frame] = []
        for chunk in chunks { frames += try decoder.feed(chunk) }
        return frames
    }

    func testHeartbeatReplyWithEchoThenNextPacketStaysInSync() throws {
        let echo = TestFiles.mustRead("Fixtures/captures/bac_2022-07_s2c_op3_heartbeat_reply_with_echo.bin")
        let auth = TestFiles.mustRead("Fixtures/captures/bac_2023-01_s2c_op8_auth_reply.bin")
        var decoder = FrameDecoder()
        let frames = try decoder.feed(echo + auth + echo + echo)
        XCTAssertEqual(frames.map(\.header.operation), [.heartbeatReply, .authReply, .heartbeatReply, .heartbeatReply])
        XCTAssertEqual(frames[0].body, [0, 0, 0x09, 0xA2])
        XCTAssertEqual(String(decoding: frames[1].body, as: UTF8.self), #"{"code":0}"#)
        XCTAssertEqual(decoder.echoBytesSkipped, 30)
        // The trailing echo of the last reply stays buffered (< 16 bytes) and nothing else.
        XCTAssertEqual(decoder.bufferedByteCount, 15)
        let more = try decoder.feed(auth)
        XCTAssertEqual(more.map(\.header.operation), [.authReply])
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }

    func testOneByteAtATime() throws {
        let stream =
            Packet.authReply() + Packet.heartbeatReply(popularity: 7, echo: Array("xyz".utf8))
            + Packet.encode(.message, protover: 0, sequence: 0, body: Array(#"{"cmd":"A"}"#.utf8))
        let frames = try decodeAll(stream.map { [$0] })
        XCTAssertEqual(frames.map(\.header.operation), [.authReply, .heartbeatReply, .message])
        XCTAssertEqual(frames[2].body, Array(#"{"cmd":"A"}"#.utf8))
    }

    func testIdleDecoderHoldsNoBuffer() throws {
        var decoder = FrameDecoder()
        let packet = Packet.authReply()
        _ = try decoder.feed(Array(packet.prefix(5)))
        XCTAssertEqual(decoder.bufferedByteCount, 5)
        _ = try decoder.feed(Array(packet.dropFirst(5)))
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }

    func testRejectsLengthBelowHeader() {
        var bytes = Packet.authReply()
        bytes[3] = 15
        XCTAssertThrowsError(try decodeAll([bytes])) { XCTAssertEqual($0 as? ProtocolError, .lengthTooSmall(15)) }
    }

    func testRejectsBadHeaderLength() {
        var bytes = Packet.authReply()
        bytes[5] = 12
        XCTAssertThrowsError(try decodeAll([bytes])) { XCTAssertEqual($0 as? ProtocolError, .badHeaderLength(12)) }
    }

    func testRejectsLengthOverCapBeforeBuffering() {
        // Only the header arrives: the decoder must refuse at once rather than wait for 4 GiB.
        let header = PacketHeader(length: 0xFFFF_FFF0, protover: 0, operation: .message, sequence: 0).bytes
        XCTAssertThrowsError(try decodeAll([header])) {
            XCTAssertEqual($0 as? ProtocolError, .lengthOverCap(0xFFFF_FFF0, cap: 1 << 20))
        }
    }

    func testAcceptsOneMebibytePacketByDefault() throws {
        let body = [UInt8](repeating: 0x41, count: (1 << 20) - 16)
        let frames = try decodeAll([Packet.encode(.message, protover: 0, body: body)])
        XCTAssertEqual(frames.first?.body.count, body.count)
    }

    func testDecoderIsPoisonedAfterError() {
        var decoder = FrameDecoder()
        var bad = Packet.authReply()
        bad[5] = 0
        XCTAssertThrowsError(try decoder.feed(bad))
        XCTAssertThrowsError(try decoder.feed(Packet.authReply()))
    }

    func testEndlessGarbageAfterHeartbeatReplyIsLostSync() {
        let garbage = [UInt8](repeating: 0xFF, count: 8192)
        XCTAssertThrowsError(try decodeAll([Packet.heartbeatReply(popularity: 1), garbage])) {
            guard case .lostSync = $0 as? ProtocolError else { return XCTFail("\($0)") }
        }
    }
}
