import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// Issue 16 "Field bugs": SEND_GIFT_V2 fields, USER_TOAST_MSG_V2 `option.source`, SUPER_CHAT_MESSAGE_JPN.
final class FieldFidelityTests: XCTestCase {
    private func parse(_ json: String) throws -> [DanmuEvent] {
        var events: [DanmuEvent] = []
        try EventParser.parse(message: Array(json.utf8), into: &events)
        return events
    }

    /// Fixtures/samples/SUPER_CHAT_MESSAGE_JPN.bac-doc.json (id 3790747) repeats a Super Chat that also arrives as
    /// SUPER_CHAT_MESSAGE: it yields no event (and is not `.unknown` either).
    func testSuperChatJPNIsDroppedAsADuplicate() throws {
        XCTAssertEqual(try SampleTests.events("SUPER_CHAT_MESSAGE_JPN.bac-doc.json"), [])
        XCTAssertEqual(try SampleTests.events("SUPER_CHAT_MESSAGE.bac-doc.json").map(\.kind), [.superChat])
    }

    /// No real USER_TOAST_MSG_V2 body in Fixtures/ or ../shared/fixtures: this one is built from the fields the
    /// parser reads (sender_uinfo, guard_info, pay_info) plus `option.source`, sent twice as the server does.
    func testUserToastV2SourceTwoCopyIsDropped() throws {
        func toast(source: Int?) -> String {
            let option = source.map { #","option":{"source":\#($0)}"# } ?? ""
            return #"{"cmd":"USER_TOAST_MSG_V2","data":{"sender_uinfo":{"uid":79667344,"base":{"name":"无光之日"}},"#
                + #""guard_info":{"guard_level":3,"role_name":"舰长","start_time":1702580687},"#
                + #""pay_info":{"num":1,"price":138000,"unit":"月"}\#(option)}}"#
        }
        var events = try parse(toast(source: 0))
        events += try parse(toast(source: 2))
        XCTAssertEqual(events.count, 1, "\(events)")
        guard case .userToast(let t) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(t.uid, 79_667_344)
        XCTAssertEqual(t.guardLevel, 3)
        XCTAssertEqual(t.price, 138_000)
        XCTAssertEqual(try parse(toast(source: nil)).map(\.kind), [.userToast])
        // USER_TOAST_MSG (v1, the USER_TOAST_MSG.bac-doc.json sample) is unaffected.
        XCTAssertEqual(try SampleTests.events("USER_TOAST_MSG.bac-doc.json").map(\.kind), [.userToast])
    }

    /// No real SEND_GIFT_V2 body in Fixtures/ or ../shared/fixtures: built from the field numbers (top-level
    /// 11 switch; gift 12 batch_combo_id, 29 receive_user_info{1 uname, 2 uid}), values from the
    /// SEND_GIFT.bac-doc.json sample.
    func testSendGiftV2SwitchBatchComboIDAndReceiver() throws {
        let batch = "batch:gift:combo_id:510149209:36047134:31036:1673622464.8445"
        let receiver = ProtoWriter.bytes(1, Array("主播".utf8)) + ProtoWriter.varint(2, 36_047_134)
        let gift =
            ProtoWriter.varint(1, 31036) + ProtoWriter.bytes(2, Array("小花花".utf8))
            + ProtoWriter.varint(3, 1) + ProtoWriter.bytes(12, Array(batch.utf8)) + ProtoWriter.bytes(29, receiver)
        func message(switch on: UInt64?) -> String {
            let pb =
                ProtoWriter.varint(1, 510_149_209) + ProtoWriter.bytes(10, gift)
                + (on.map { ProtoWriter.varint(11, $0) } ?? [])
            return #"{"cmd":"SEND_GIFT_V2","data":{"pb":"\#(Base64.encode(pb))"}}"#
        }
        guard case .gift(let g) = try parse(message(switch: 1)).first else { return XCTFail() }
        XCTAssertEqual(g.batchComboID, batch)
        XCTAssertEqual(g.receiverUID, 36_047_134)
        // switch false or absent: the web page ignores the message, so danmu delivers nothing (not .unknown).
        XCTAssertEqual(try parse(message(switch: 0)), [])
        XCTAssertEqual(try parse(message(switch: nil)), [])
    }
}
