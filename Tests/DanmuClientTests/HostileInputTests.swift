import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// Hostile input gives errors, never a crash or a hang.
final class HostileInputTests: XCTestCase {
    /// Decodes a stream fully; returns the error that ended it, if any.
    @discardableResult
    private func run(_ chunks: [[UInt8]]) -> (events: [DanmuEvent], error: ProtocolError?) {
        var frames = FrameDecoder()
        var messages = MessageDecoder()
        var events: [DanmuEvent] = []
        do throws(ProtocolError) {
            for chunk in chunks {
                for frame in try frames.feed(chunk) { try messages.decode(frame, into: &events) }
            }
        } catch {
            return (events, error)
        }
        return (events, nil)
    }

    private func message(_ protover: UInt16, _ body: [UInt8]) -> [UInt8] {
        Packet.encode(.message, protover: protover, sequence: 0, body: body)
    }

    /// 2,000 rounds of random bytes, every other one behind a plausible header whose length is exactly the
    /// chunk. Each round ends in an error, in frames, or in bytes held back waiting for more; a chunk with an
    /// exact plausible header must frame exactly one packet (or fail), never wait. All three outcomes must occur,
    /// so the error path, the body decoders and the waiting path are each exercised.
    func testRandomBytesNeverCrash() {
        var random = SplitMixRandom(seed: 42)
        var errors = 0
        var framedRounds = 0
        var waiting = 0
        var undecided: [String] = []
        for round in 0..<2000 {
            let count = Int(random.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let plausible = round % 2 == 0 && bytes.count >= 16
            if plausible {
                // Make the header plausible so the body decoders get exercised too.
                let header = PacketHeader(
                    length: UInt32(bytes.count), protover: UInt16(random.next() % 4),
                    operation: [.heartbeatReply, .message, .authReply][Int(random.next() % 3)], sequence: 0)
                bytes.replaceSubrange(0..<16, with: header.bytes)
            }
            var frames = FrameDecoder()
            var messages = MessageDecoder()
            var events: [DanmuEvent] = []
            var framed: [Frame] = []
            do throws(ProtocolError) {
                framed = try frames.feed(bytes)
                for frame in framed { try messages.decode(frame, into: &events) }
            } catch {
                errors += 1
                continue
            }
            if plausible && (framed.count != 1 || frames.bufferedByteCount != 0) {
                undecided.append("round \(round): \(framed.count) frames, \(frames.bufferedByteCount) bytes waiting")
            }
            if frames.bufferedByteCount > 0 {
                waiting += 1
            } else if !framed.isEmpty {
                framedRounds += 1
            }
        }
        XCTAssertEqual(undecided.count, 0, "an exact plausible header must frame one packet: \(undecided.prefix(3))")
        XCTAssertGreaterThan(errors, 100, "random bytes must mostly be rejected")
        XCTAssertGreaterThan(framedRounds, 100, "plausible headers must reach the body decoders")
        XCTAssertGreaterThan(waiting, 0, "short chunks must be held back")
    }

    func testAbsurdLengthIsRejectedImmediately() {
        let header = PacketHeader(length: UInt32.max, protover: 0, operation: .message, sequence: 0).bytes
        XCTAssertEqual(run([header]).error, .lengthOverCap(UInt32.max, cap: 1 << 20))
    }

    func testZlibBombStopsAtTheCap() {
        let bomb = Zlib.compress([UInt8](repeating: 0, count: 4 << 20))
        XCTAssertLessThan(bomb.count, 64 << 10)
        var decoder = MessageDecoder(maxDecompressedBytes: 1 << 20)
        var events: [DanmuEvent] = []
        let frame = Frame(
            header: PacketHeader(length: UInt32(16 + bomb.count), protover: 2, operation: .message, sequence: 0),
            body: bomb)
        XCTAssertThrowsError(try decoder.decode(frame, into: &events)) {
            guard case .zlib = $0 as? ProtocolError else { return XCTFail("\($0)") }
        }
    }

    func testBrotliBombStopsAtTheCap() throws {
        // 106 bytes that expand to 64 MiB of zeros; made (and checked to round-trip) with
        // python3 -c "import brotli; print(brotli.compress(b'\0'*(64<<20)).hex())"  (brotli module 1.0.9).
        let hex =
            "cbffff3ff82700e2b14020f7fe8fffff7ff04f00c4611180eefd1fffffffe09f0088c30200ddfb3ffeffffc13f0110870500baf77ffcffff837f02200e0b0074effff8ffff07ff04401c1600e8defff1ffff0ffe0980382c00d0bdffe3ffff1ffc1300715800a07bff37"
        let stream = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
        var decoder = MessageDecoder(maxDecompressedBytes: 1 << 20)
        var events: [DanmuEvent] = []
        let frame = Frame(
            header: PacketHeader(length: UInt32(16 + stream.count), protover: 3, operation: .message, sequence: 0),
            body: stream)
        XCTAssertThrowsError(try decoder.decode(frame, into: &events)) {
            guard case .brotli(let why) = $0 as? ProtocolError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.lowercased().contains("limit") || why.lowercased().contains("exceed"), why)
        }
        // Under a cap above 64 MiB the same stream is valid: the error above is the cap, not corruption.
        var generous = MessageDecoder(maxDecompressedBytes: 65 << 20)
        var none: [DanmuEvent] = []
        XCTAssertThrowsError(try generous.decode(frame, into: &none)) {
            // 64 MiB of zero bytes is not a batch of packets: the walk reports a bad inner header.
            XCTAssertEqual($0 as? ProtocolError, .lengthTooSmall(0))
        }
    }

    func testNestedBatchesStopAtTheDepthLimit() {
        var packet = message(0, Array(#"{"cmd":"X"}"#.utf8))
        for _ in 0..<10 { packet = message(2, Zlib.compress(packet)) }
        XCTAssertEqual(run([packet]).error, .nestingTooDeep(4))
        var shallow = message(0, Array(#"{"cmd":"X"}"#.utf8))
        for _ in 0..<3 { shallow = message(2, Zlib.compress(shallow)) }
        XCTAssertEqual(run([shallow]).events.map(\.cmd), ["X"])
    }

    func testDeepJSONIsCountedNotFatal() throws {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        let good = Array(#"{"cmd":"LIVE","roomid":1}"#.utf8)
        let batch = message(0, deep) + message(0, Array("{\"cmd\":".utf8)) + message(0, good)
        var frames = FrameDecoder()
        var decoder = MessageDecoder()
        var events: [DanmuEvent] = []
        for frame in try frames.feed(message(2, Zlib.compress(batch))) { try decoder.decode(frame, into: &events) }
        XCTAssertEqual(events.map(\.cmd), ["LIVE"], "the good message of the batch is still delivered")
        XCTAssertEqual(decoder.statistics.malformedMessages, 2)
        XCTAssertEqual(decoder.statistics.messages, 3)
    }

    func testTruncatedInnerPacketAndCorruptStreams() {
        let inner = message(0, Array(#"{"cmd":"X"}"#.utf8))
        XCTAssertEqual(
            run([message(2, Zlib.compress(Array(inner.dropLast(3))))]).error,
            .truncatedBatch(declared: inner.count, available: inner.count - 3))
        guard case .zlib = run([message(2, [0x78, 0x9C, 0xFF, 0xFF, 0xFF])]).error else { return XCTFail() }
        guard case .brotli = run([message(3, [0xFF, 0xFF, 0xFF, 0xFF])]).error else { return XCTFail() }
        XCTAssertEqual(
            run([Packet.encode(.heartbeatReply, body: [1, 2])]).error, .shortBody(operation: .heartbeatReply, count: 2))
        // A garbage AUTH_REPLY is the session's rejection (Wire/AuthReply): the decoder yields no event and no
        // protocol error for it (CollectorPartsTests.testAuthReplyIsParsedOnceAndTravelsWithTheFrame counts it).
        let garbageReply = run([Packet.encode(.authReply, body: Array("nope".utf8))])
        XCTAssertNil(garbageReply.error)
        XCTAssertEqual(garbageReply.events, [])
    }

    func testUnknownOpsAndProtoversAreSkippedAndCounted() throws {
        var frames = FrameDecoder()
        var decoder = MessageDecoder()
        var events: [DanmuEvent] = []
        let stream = Packet.encode(Operation(1234), body: [1, 2, 3]) + message(9, [0]) + Packet.authReply()
        for frame in try frames.feed(stream) { try decoder.decode(frame, into: &events) }
        XCTAssertEqual(events, [.authReply(code: 0)])
        XCTAssertEqual(decoder.statistics.unknownOperations, 1)
        XCTAssertEqual(decoder.statistics.unknownProtovers, 1)
    }
}
