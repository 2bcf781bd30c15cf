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
}
