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
}
