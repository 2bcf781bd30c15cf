import DanmuClient
import DanmuCodecs
import XCTest

/// One decompression budget per received frame (issue 17): the cap bounds the total output of every zlib/brotli
/// call a frame causes, nested or side by side, not each call on its own. Before this, a frame nested 4 levels
/// deep (or a batch of sibling compressed packets) could expand to 4× (or n×) `maxDecompressedBytes`.
/// Also the empty ver-0 body (issue 16): nothing to parse, so not a malformed message.
final class DecompressionBudgetTests: XCTestCase {
    private let cap = 1 << 20

    private func message(_ protover: UInt16, _ body: [UInt8]) -> [UInt8] {
        Packet.encode(.message, protover: protover, sequence: 0, body: body)
    }

    /// A ver-0 packet of about `size` bytes: `{"cmd":"PAD<n>","pad":"aaa…"}`, which compresses to almost nothing.
    private func padding(_ n: Int, size: Int) -> [UInt8] {
        message(
            0,
            Array(#"{"cmd":"PAD\#(n)","pad":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: size)
                + Array(#""}"#.utf8))
    }

    private func frame(_ packet: [UInt8]) throws -> Frame {
        var frames = FrameDecoder(maxPacketLength: 1 << 20)
        let decoded = try frames.feed(packet)
        XCTAssertEqual(decoded.count, 1)
        return try XCTUnwrap(decoded.first)
    }

    /// Four nested levels (zlib, brotli, zlib, zlib from the outside in); three of them inflate to 0.4 × the cap
    /// each, the brotli one to a few KiB: every call stays under the cap, the frame's total (≈ 1.2 × the cap) does
    /// not.
    private func nestedBomb() -> [UInt8] {
        let level = cap * 2 / 5
        var packet = padding(4, size: level)
        packet = message(2, Zlib.compress(packet + padding(3, size: 16)))
        packet = message(2, Zlib.compress(packet + padding(2, size: level)))
        packet = message(3, Brotli.compressUncompressed(packet + padding(1, size: 16)))
        return message(2, Zlib.compress(packet + padding(0, size: level)))
    }

    func testNestedBatchesShareOneBudgetPerFrame() throws {
        let bomb = try frame(nestedBomb())
        var decoder = MessageDecoder(maxNestingDepth: 4, maxDecompressedBytes: cap)
        var events: [DanmuEvent] = []
        XCTAssertThrowsError(try decoder.decode(bomb, into: &events)) {
            guard case .zlib(let why) = $0 as? ProtocolError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.contains("limit"), why)
        }
        XCTAssertLessThanOrEqual(
            decoder.statistics.decompressedBytes, cap,
            "a frame's nested batches together produced more than the cap")
        // The same frame under a cap that covers the total decodes completely: the error above is the budget.
        var generous = MessageDecoder(maxNestingDepth: 4, maxDecompressedBytes: 2 * cap)
        let all = try generous.decode(bomb)
        XCTAssertEqual(all.map(\.cmd), ["PAD4", "PAD3", "PAD2", "PAD1", "PAD0"])
        XCTAssertGreaterThan(generous.statistics.decompressedBytes, cap)
    }

    func testSiblingBatchesShareOneBudgetPerFrame() throws {
        // One outer batch holding four compressed packets side by side, each inflating to 0.3 × the cap.
        let siblings = (0..<4).flatMap { message(2, Zlib.compress(padding($0, size: cap * 3 / 10))) }
        let bomb = try frame(message(2, Zlib.compress(siblings)))
        var decoder = MessageDecoder(maxDecompressedBytes: cap)
        var events: [DanmuEvent] = []
        XCTAssertThrowsError(try decoder.decode(bomb, into: &events)) {
            guard case .zlib = $0 as? ProtocolError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(events.map(\.cmd), ["PAD0", "PAD1", "PAD2"], "what fit in the budget is still delivered")
        XCTAssertLessThanOrEqual(decoder.statistics.decompressedBytes, cap)
    }

    func testEachFrameGetsAFreshBudget() throws {
        // Two frames that each use 0.8 of the cap: both decode; the budget is per frame, not per decoder.
        let packet = message(
            2,
            Zlib.compress(
                message(3, Brotli.compressUncompressed(padding(0, size: cap * 2 / 5)))
                    + padding(1, size: 16)))
        let one = try frame(packet)
        var decoder = MessageDecoder(maxDecompressedBytes: cap)
        XCTAssertEqual(try decoder.decode(one).map(\.cmd), ["PAD0", "PAD1"])
        XCTAssertEqual(try decoder.decode(one).map(\.cmd), ["PAD0", "PAD1"])
    }

    func testDefaultsAreDepthFourAndSixteenMebibytes() {
        // README: "It recurses into nested batches up to depth 4 and gives each received frame 16 MiB".
        let decoder = MessageDecoder()
        XCTAssertEqual(decoder.maxNestingDepth, 4)
        XCTAssertEqual(decoder.maxDecompressedBytes, 16 << 20)
    }

    func testDepthLimitIsKept() throws {
        var packet = message(0, Array(#"{"cmd":"X"}"#.utf8))
        for _ in 0..<5 { packet = message(2, Zlib.compress(packet)) }
        var decoder = MessageDecoder(maxNestingDepth: 4, maxDecompressedBytes: cap)
        XCTAssertThrowsError(try decoder.decode(try frame(packet))) {
            XCTAssertEqual($0 as? ProtocolError, .nestingTooDeep(4))
        }
    }

    func testEmptyPlainBodyIsNotMalformed() throws {
        var decoder = MessageDecoder()
        XCTAssertEqual(try decoder.decode(try frame(message(0, []))), [])
        let batch = message(0, []) + message(0, Array(#"{"cmd":"LIVE","roomid":1}"#.utf8)) + message(0, [])
        XCTAssertEqual(try decoder.decode(try frame(message(2, Zlib.compress(batch)))).map(\.cmd), ["LIVE"])
        XCTAssertEqual(decoder.statistics.malformedMessages, 0)
        XCTAssertNil(decoder.statistics.lastMalformed)
        XCTAssertEqual(decoder.statistics.messages, 1, "an empty body is not a JSON message")
    }
}
