import TestSupport
import XCTest

@testable import DanmuClient

/// A random source that returns fixed words (the RFC's masking key, or a counter).
struct FixedWords: RandomNumberGenerator {
    var words: [UInt64]
    var index = 0
    init(_ words: [UInt64]) { self.words = words }
    mutating func next() -> UInt64 {
        defer { index += 1 }
        return words[index % words.count]
    }
}

final class WebSocketFrameTests: XCTestCase {
    private let hello = Array("Hello".utf8)

    private func decodeAllSplits(
        _ bytes: [UInt8], role: WebSocketFrameDecoder.Role = .client, file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> [WebSocketFrameDecoder.Event] {
        var whole = WebSocketFrameDecoder(role: role)
        let expected = try whole.feed(bytes)
        // Every two-way split, and byte by byte, gives the same events (for short inputs).
        if bytes.count <= 300 {
            for cut in 0...bytes.count {
                var decoder = WebSocketFrameDecoder(role: role)
                let events = try decoder.feed(Array(bytes[..<cut])) + decoder.feed(Array(bytes[cut...]))
                XCTAssertEqual(events, expected, "cut at \(cut)", file: file, line: line)
            }
        }
        var decoder = WebSocketFrameDecoder(role: role)
        var events: [WebSocketFrameDecoder.Event] = []
        for byte in bytes { events += try decoder.feed([byte]) }
        XCTAssertEqual(events, expected, "byte by byte", file: file, line: line)
        return expected
    }

    // RFC 6455 §5.7 examples.
    func testRFCUnmaskedHello() throws {
        XCTAssertEqual(try decodeAllSplits([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), [.message(.text, hello)])
        var encoder = WebSocketFrameEncoder(masks: false)
        XCTAssertEqual(encoder.encode(.text, payload: hello), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
    }

    func testRFCMaskedHello() throws {
        let masked: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        var encoder = WebSocketFrameEncoder(masks: true, random: FixedWords([0x37fa_213d]))
        XCTAssertEqual(encoder.encode(.text, payload: hello), masked)
        XCTAssertEqual(try decodeAllSplits(masked, role: .server), [.message(.text, hello)])
        // A client must refuse it: servers do not mask.
        var client = WebSocketFrameDecoder(role: .client)
        XCTAssertThrowsError(try client.feed(masked)) {
            XCTAssertEqual(($0 as? WebSocketError)?.reason, .maskedFrameFromServer)
        }
    }

    func testRFCFragmentedHello() throws {
        let bytes: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
        XCTAssertEqual(try decodeAllSplits(bytes), [.message(.text, hello)])
    }

    func testRFCPingAndMaskedPong() throws {
        XCTAssertEqual(try decodeAllSplits([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), [.ping(hello)])
        let pong: [UInt8] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        XCTAssertEqual(try decodeAllSplits(pong, role: .server), [.pong(hello)])
        var encoder = WebSocketFrameEncoder(masks: true, random: FixedWords([0x37fa_213d]))
        XCTAssertEqual(encoder.encode(.pong, payload: hello), pong)
    }

    func testRFC256ByteAnd64KiBLengths() throws {
        let small = (0..<256).map { UInt8(truncatingIfNeeded: $0) }
        let frame256 = [0x82, 0x7E, 0x01, 0x00] + small
        XCTAssertEqual(try decodeAllSplits(frame256), [.message(.binary, small)])
        var encoder = WebSocketFrameEncoder(masks: false)
        XCTAssertEqual(encoder.encode(.binary, payload: small), frame256)

        let big = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let frame64k: [UInt8] = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + big
        XCTAssertEqual(try decodeAllSplits(frame64k), [.message(.binary, big)])
        XCTAssertEqual(encoder.encode(.binary, payload: big), frame64k)
    }

    /// Masking 8 bytes at a time must match the byte-wise definition (§5.3) at every length and chunk phase.
    func testMaskedRoundTripAtEveryLengthAndSplit() throws {
        var random = SplitMixRandom(seed: 3)
        for length in [0, 1, 3, 7, 8, 9, 15, 17, 125, 126, 127, 1000, 70_000] {
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            var encoder = WebSocketFrameEncoder(masks: true, random: SplitMixRandom(seed: UInt64(length)))
            let frame = encoder.encode(.binary, payload: payload)
            let keyOffset = frame.count - length - 4
            let key = Array(frame[keyOffset..<keyOffset + 4])
            let reference = payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
            XCTAssertEqual(Array(frame[(keyOffset + 4)...]), reference, "length \(length)")
            for chunk in [1, 3, 5, 8, 13] where length < 2000 || chunk == 13 {
                var decoder = WebSocketFrameDecoder(role: .server)
                var events: [WebSocketFrameDecoder.Event] = []
                var offset = 0
                while offset < frame.count {
                    let end = min(frame.count, offset + chunk)
                    events += try decoder.feed(Array(frame[offset..<end]))
                    offset = end
                }
                XCTAssertEqual(events, [.message(.binary, payload)], "length \(length) chunk \(chunk)")
            }
        }
    }

    func testControlFramesBetweenFragments() throws {
        var encoder = WebSocketFrameEncoder(masks: false)
        var bytes: [UInt8] = []
        encoder.encode(.binary, payload: [1, 2], fin: false, into: &bytes)
        encoder.encode(.ping, payload: [9], into: &bytes)
        encoder.encode(.continuation, payload: [3], fin: false, into: &bytes)
        encoder.encode(.pong, payload: [], into: &bytes)
        encoder.encode(.continuation, payload: [4], into: &bytes)
        encoder.encodeClose(WebSocketClose(code: .normalClosure, reason: "done"), into: &bytes)
        XCTAssertEqual(
            try decodeAllSplits(bytes),
            [
                .ping([9]), .pong([]), .message(.binary, [1, 2, 3, 4]),
                .close(WebSocketClose(code: .normalClosure, reason: "done")),
            ])
    }

    private func assertRejected(
        _ bytes: [UInt8], _ reason: WebSocketError.Reason, role: WebSocketFrameDecoder.Role = .client,
        limits: WebSocketFrameDecoder.Limits = .init(), file: StaticString = #filePath, line: UInt = #line
    ) {
        var decoder = WebSocketFrameDecoder(role: role, limits: limits)
        XCTAssertThrowsError(try decoder.feed(bytes), file: file, line: line) {
            XCTAssertEqual(($0 as? WebSocketError)?.reason, reason, file: file, line: line)
        }
        // Failed stays failed.
        XCTAssertThrowsError(try decoder.feed([0x82, 0x00]), file: file, line: line)
    }

    func testRejectsProtocolViolations() {
        assertRejected([0xC2, 0x00], .reservedBitsSet(4))
        assertRejected([0x93, 0x00], .reservedBitsSet(1))
        assertRejected([0x83, 0x00], .unknownOpcode(3))
        assertRejected([0x8B, 0x00], .unknownOpcode(11))
        assertRejected([0x82, 0x00], .unmaskedFrameFromClient, role: .server)
        assertRejected([0x09, 0x00], .fragmentedControlFrame)
        assertRejected([0x89, 0x7E, 0x00, 0x7E], .controlFrameTooLong(126))
        assertRejected([0x80, 0x00], .unexpectedContinuation)
        assertRejected([0x02, 0x01, 0x41, 0x82, 0x00], .expectedContinuation)
        assertRejected([0x82, 0x7E, 0x00, 0x05], .nonMinimalLength)
        assertRejected([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF], .nonMinimalLength)
        assertRejected([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], .invalidLength)
        assertRejected([0x81, 0x02, 0xC3, 0x28], .invalidUTF8)
    }

    func testLimitsAreCheckedBeforeThePayloadArrives() {
        let limits = WebSocketFrameDecoder.Limits(maxFrameSize: 100, maxMessageSize: 150)
        // Only the header is fed: the frame is refused from its length alone.
        assertRejected([0x82, 0x7E, 0x01, 0x00], .frameTooLarge(256, limit: 100), limits: limits)
        let eighty = [UInt8](repeating: 7, count: 80)
        assertRejected([0x02, 80] + eighty + [0x80, 80], .messageTooLarge(160, limit: 150), limits: limits)
        let huge: [UInt8] = [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        assertRejected(huge, .frameTooLarge(0x7FFF_FFFF_FFFF_FFFF, limit: 100), limits: limits)
    }

    func testClosePayloads() throws {
        var decoder = WebSocketFrameDecoder()
        XCTAssertEqual(try decoder.feed([0x88, 0x00]), [.close(WebSocketClose(code: nil))])
        XCTAssertTrue(decoder.isClosed)
        XCTAssertThrowsError(try decoder.feed([0x82, 0x00])) {
            XCTAssertEqual(($0 as? WebSocketError)?.reason, .frameAfterClose)
        }
        assertRejected([0x88, 0x01, 0x03], .closePayloadTooShort)
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0xFFFF] {
            assertRejected([0x88, 0x02, UInt8(code >> 8), UInt8(code & 0xFF)], .invalidCloseCode(code))
        }
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4000, 4999] {
            var ok = WebSocketFrameDecoder()
            XCTAssertEqual(
                try ok.feed([0x88, 0x02, UInt8(code >> 8), UInt8(code & 0xFF)]),
                [.close(WebSocketClose(code: WebSocketCloseCode(code)))])
        }
        assertRejected([0x88, 0x04, 0x03, 0xE8, 0xFF, 0xFE], .invalidUTF8)
    }

    func testCloseReasonIsTruncatedOnAScalarBoundary() throws {
        var encoder = WebSocketFrameEncoder(masks: false)
        var bytes: [UInt8] = []
        encoder.encodeClose(WebSocketClose(code: .goingAway, reason: String(repeating: "弹", count: 60)), into: &bytes)
        XCTAssertLessThanOrEqual(bytes.count, 2 + 125)
        var decoder = WebSocketFrameDecoder()
        guard case .close(let close) = try decoder.feed(bytes).first else { return XCTFail("no close") }
        XCTAssertEqual(close.code, .goingAway)
        XCTAssertEqual(close.reason, String(repeating: "弹", count: 41))
    }

    func testIdleDecoderHoldsNoMessageBuffer() throws {
        var decoder = WebSocketFrameDecoder()
        _ = try decoder.feed([0x02, 0x02, 1, 2])
        XCTAssertEqual(decoder.bufferedMessageBytes, 2)
        _ = try decoder.feed([0x80, 0x01, 3])
        XCTAssertEqual(decoder.bufferedMessageBytes, 0)
    }
}
