import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// Issue 16 "Field bugs": medal `is_lighted`, guard level and colour, JSON and protobuf.
final class MedalFidelityTests: XCTestCase {
    private func parse(_ json: String) throws -> [DanmuEvent] {
        var events: [DanmuEvent] = []
        try EventParser.parse(message: Array(json.utf8), into: &events)
        return events
    }

    /// Real INTERACT_WORD_V2 bodies (bac-doc sample, qydysky 2025-07 payload) carry medal field 8 = 1, no 9.
    func testInteractWordV2RealBodiesAreLightedWithoutGuard() throws {
        guard case .interact(let i) = try SampleTests.single("INTERACT_WORD_V2.bac-doc.json") else { return XCTFail() }
        XCTAssertEqual(i.medal?.isLighted, true)
        XCTAssertEqual(i.medal?.guardLevel, 0)
    }

    /// No real body with a dimmed or guard medal: built from the field numbers (medal 8 is_lighted, 9 guard_level).
    func testInteractWordV2MedalLightedAndGuardFields() throws {
        let medal =
            ProtoWriter.varint(1, 686_127) + ProtoWriter.varint(2, 18)
            + ProtoWriter.bytes(3, Array("生态".utf8))
            + ProtoWriter.varint(8, 0) + ProtoWriter.varint(9, 2) + ProtoWriter.varint(12, 544_853)
        let pb =
            ProtoWriter.varint(1, 439_367_700) + ProtoWriter.bytes(2, Array("StarSea246".utf8))
            + ProtoWriter.varint(5, 1) + ProtoWriter.bytes(9, medal)
        let events = try parse(#"{"cmd":"INTERACT_WORD_V2","data":{"pb":"\#(Base64.encode(pb))"}}"#)
        guard case .interact(let i) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(
            i.medal,
            Medal(
                name: "生态", level: 18, anchorRoomID: 544_853, anchorUID: 686_127, guardLevel: 2, isLighted: false))
    }

    /// No real SEND_GIFT_V2 body: built from the field numbers (medal 11 is_lighted, 12 guard_level);
    /// a medal without field 11 stays lighted.
    func testSendGiftV2MedalLightedAndGuardFields() throws {
        func message(_ medalExtra: [UInt8]) -> String {
            let medal =
                ProtoWriter.varint(1, 42) + ProtoWriter.varint(4, 777) + ProtoWriter.varint(5, 12)
                + ProtoWriter.bytes(6, Array("牌子".utf8)) + medalExtra
            let gift =
                ProtoWriter.varint(1, 31036) + ProtoWriter.bytes(2, Array("小花花".utf8))
                + ProtoWriter.varint(3, 1)
            let pb =
                ProtoWriter.varint(1, 123_456) + ProtoWriter.bytes(8, medal) + ProtoWriter.bytes(10, gift)
                + ProtoWriter.varint(11, 1)
            return #"{"cmd":"SEND_GIFT_V2","data":{"pb":"\#(Base64.encode(pb))"}}"#
        }
        guard case .gift(let dimmed) = try parse(message(ProtoWriter.varint(11, 0) + ProtoWriter.varint(12, 3))).first,
            case .gift(let plain) = try parse(message([])).first
        else { return XCTFail() }
        XCTAssertEqual(dimmed.medal?.isLighted, false)
        XCTAssertEqual(dimmed.medal?.guardLevel, 3)
        XCTAssertEqual(plain.medal?.isLighted, true)
        XCTAssertEqual(plain.medal?.guardLevel, 0)
    }

    /// The SUPER_CHAT_MESSAGE_JPN bac-doc sample's `medal_info` has no `is_lighted` and `"medal_color":"#1a544b"`.
    func testJSONMedalWithoutIsLightedAndWithHexColor() throws {
        let document = try JSONDocument(
            parsing: TestFiles.mustRead("Fixtures/samples/SUPER_CHAT_MESSAGE_JPN.bac-doc.json"), maxDepth: 64)
        let medal = try XCTUnwrap(SuperChat.fansMedal(document.root["data"]?["medal_info"]))
        XCTAssertEqual(medal.name, "棉花花")
        XCTAssertFalse(medal.isLighted)
        XCTAssertEqual(medal.color, 0x1a544b)
    }

    /// The SUPER_CHAT_MESSAGE bac-doc sample: `"is_lighted":1`, `"medal_color":"#1a544b"`.
    func testSuperChatSampleHexColor() throws {
        let event = try SampleTests.single("SUPER_CHAT_MESSAGE.bac-doc.json")
        guard case .superChat(let sc) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(sc.medal?.isLighted, true)
        XCTAssertEqual(sc.medal?.color, 0x1a544b)
    }
}
