import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// INTERACT_WORD_V2 and SEND_GIFT_V2 carry protobuf in base64 `data.pb`.
final class EventProtobufTests: XCTestCase {
    func testInteractWordV2Sample() throws {
        guard case .interact(let i) = try SampleTests.single("INTERACT_WORD_V2.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(i.cmd, "INTERACT_WORD_V2")
        XCTAssertEqual(i.uid, 439_367_700)
        XCTAssertEqual(i.uname, "StarSea246")
        XCTAssertEqual(i.action, .enter)
        XCTAssertEqual(i.roomID, 544_853)
        XCTAssertEqual(i.timestamp, 1_751_716_524)
        XCTAssertEqual(i.medal, Medal(name: "生态", level: 18, anchorRoomID: 544_853, anchorUID: 686_127))
    }

    func testInteractWordV2QydyskyPayload() throws {
        let pb = String(
            decoding: TestFiles.mustRead("Fixtures/samples/INTERACT_WORD_V2.data.pb.qydysky-2025-07.b64.txt"),
            as: UTF8.self
        ).trimmingCharacters(in: "\n")
        var events: [DanmuEvent] = []
        try EventParser.parse(
            message: Array(#"{"cmd":"INTERACT_WORD_V2","data":{"dmscore":1,"pb":"\#(pb)"}}"#.utf8), into: &events)
        guard case .interact(let i) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(i.uid, 689_754_432)
        XCTAssertEqual(i.uname, "别死在火星上")
        XCTAssertEqual(i.roomID, 92613)
        XCTAssertEqual(i.timestamp, 1_751_378_115)
        XCTAssertEqual(i.medal?.level, 22)
    }

    func testSendGiftV2WithTwoGifts() throws {
        func gift(_ id: UInt64, _ name: String, num: UInt64, price: UInt64) -> [UInt8] {
            ProtoWriter.varint(1, id) + ProtoWriter.bytes(2, Array(name.utf8)) + ProtoWriter.varint(3, num)
                + ProtoWriter.varint(5, price) + ProtoWriter.varint(7, num * price)
                + ProtoWriter.bytes(8, Array("gold".utf8))
                + ProtoWriter.bytes(18, Array("投喂".utf8))
        }
        let medal =
            ProtoWriter.varint(1, 42) + ProtoWriter.varint(4, 777) + ProtoWriter.varint(5, 12)
            + ProtoWriter.bytes(6, Array("牌子".utf8))
        let message =
            ProtoWriter.varint(1, 123_456) + ProtoWriter.bytes(2, Array("送礼人".utf8)) + ProtoWriter.varint(5, 3)
            + ProtoWriter.bytes(8, medal) + ProtoWriter.bytes(10, gift(31036, "小花花", num: 2, price: 100))
            + ProtoWriter.bytes(10, gift(31039, "牛哇牛哇", num: 1, price: 1000)) + ProtoWriter.varint(11, 1)
        let json = #"{"cmd":"SEND_GIFT_V2","data":{"pb":"\#(Base64.encode(message))"}}"#
        var events: [DanmuEvent] = []
        try EventParser.parse(message: Array(json.utf8), into: &events)
        XCTAssertEqual(events.count, 2)
        guard case .gift(let first) = events[0], case .gift(let second) = events[1] else { return XCTFail("\(events)") }
        XCTAssertEqual(first.cmd, "SEND_GIFT_V2")
        XCTAssertEqual(first.uid, 123_456)
        XCTAssertEqual(first.uname, "送礼人")
        XCTAssertEqual(first.giftName, "小花花")
        XCTAssertEqual(first.num, 2)
        XCTAssertEqual(first.totalCoin, 200)
        XCTAssertEqual(first.coinType, "gold")
        XCTAssertEqual(first.medal, Medal(name: "牌子", level: 12, anchorRoomID: 777, anchorUID: 42))
        XCTAssertEqual(second.giftName, "牛哇牛哇")
        XCTAssertEqual(second.price, 1000)
        XCTAssertEqual(second.guardLevel, 3)
    }

    func testBrokenPayloadIsDeliveredAsUnknown() throws {
        var events: [DanmuEvent] = []
        try EventParser.parse(
            message: Array(#"{"cmd":"INTERACT_WORD_V2","data":{"pb":"!!notbase64"}}"#.utf8), into: &events)
        try EventParser.parse(message: Array(#"{"cmd":"SEND_GIFT_V2","data":{"pb":"/////w=="}}"#.utf8), into: &events)
        XCTAssertEqual(events.map(\.kind), [.unknown, .unknown])
        XCTAssertEqual(events.map(\.cmd), ["INTERACT_WORD_V2", "SEND_GIFT_V2"])
    }
}

/// Minimal protobuf encoder for building test messages.
enum ProtoWriter {
    static func rawVarint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    static func varint(_ number: Int, _ value: UInt64) -> [UInt8] { rawVarint(UInt64(number) << 3) + rawVarint(value) }

    static func bytes(_ number: Int, _ value: [UInt8]) -> [UInt8] {
        rawVarint(UInt64(number) << 3 | 2) + rawVarint(UInt64(value.count)) + value
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var s = Substring(self)
        while s.last == character || s.last == "\r" { s.removeLast() }
        return String(s)
    }
}
