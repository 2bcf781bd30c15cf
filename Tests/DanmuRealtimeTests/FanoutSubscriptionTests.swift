import DanmuClient
import XCTest

@testable import DanmuRealtime

final class FanoutSubscriptionTests: XCTestCase {
    func parse(_ query: [(String, String)], lastEventID: String? = nil) throws(SubscriptionError) -> Subscription {
        try Subscription.parse(query: query.map { (name: $0.0, value: $0.1) }, lastEventID: lastEventID)
    }

    func error(_ query: [(String, String)], lastEventID: String? = nil) -> SubscriptionError? {
        do {
            _ = try parse(query, lastEventID: lastEventID)
            return nil
        } catch {
            return error
        }
    }

    func testRoomsKindsAndSince() throws {
        let subscription = try parse([("rooms", "1,2"), ("kinds", "danmaku,super_chat"), ("since", "5-9")])
        XCTAssertEqual(subscription.rooms, [1, 2])
        XCTAssertEqual(subscription.kinds, [.danmaku, .superChat])
        XCTAssertEqual(subscription.resumeAfter, EventID(epoch: 5, sequence: 9))
        XCTAssertTrue(subscription.matches(room: 2, kind: .superChat))
        XCTAssertFalse(subscription.matches(room: 3, kind: .danmaku))
        XCTAssertFalse(subscription.matches(room: 1, kind: .gift))
    }

    func testNothingMeansEverythingLive() throws {
        let subscription = try parse([("token", "ignored")])
        XCTAssertEqual(subscription, Subscription(rooms: nil, kinds: nil, resumeAfter: nil))
        XCTAssertTrue(subscription.matches(room: 123, kind: .unknown))
    }

    func testRepeatedParametersMergeAndLastEventIDWins() throws {
        let subscription = try parse([("rooms", "1"), ("rooms", "2,2"), ("since", "1-1")], lastEventID: "1-40")
        XCTAssertEqual(subscription.rooms, [1, 2])
        XCTAssertEqual(subscription.resumeAfter, EventID(epoch: 1, sequence: 40))
        XCTAssertEqual(try parse([("since", "1-1")], lastEventID: "").resumeAfter, EventID(epoch: 1, sequence: 1))
    }

    func testBadRoomsNameTheParameterAndValue() {
        XCTAssertEqual(error([("rooms", "1,x")])?.description, #"bad rooms "1,x": holds "x", not a room id"#)
        XCTAssertEqual(error([("rooms", "")])?.parameter, "rooms")
        XCTAssertEqual(error([("rooms", "1,,2")])?.description, #"bad rooms "1,,2": holds "", not a room id"#)
        XCTAssertEqual(error([("rooms", "0")])?.parameter, "rooms")
        XCTAssertEqual(error([("rooms", "-3")])?.parameter, "rooms")
        XCTAssertEqual(error([("rooms", "99999999999999999999")])?.parameter, "rooms")
        XCTAssertEqual(error([("rooms", "9223372036854775808")])?.parameter, "rooms")
        XCTAssertNil(error([("rooms", "9223372036854775807")]))
    }

    func testAtMostAThousandRooms() throws {
        let thousand = (1...1_000).map(String.init).joined(separator: ",")
        XCTAssertEqual(try parse([("rooms", thousand)]).rooms?.count, 1_000)
        let tooMany = error([("rooms", thousand + ",1001")])
        XCTAssertEqual(tooMany?.parameter, "rooms")
        XCTAssertTrue(tooMany?.description.hasSuffix(": names more than 1000 rooms") ?? false)
        // The quoted value is shortened: a 400 body does not echo a huge query.
        XCTAssertLessThan(tooMany?.description.count ?? .max, 160)
    }

    func testUnknownKindIsAnErrorListingTheKnownOnes() {
        let failure = error([("kinds", "danmaku,giftt")])
        XCTAssertEqual(failure?.parameter, "kinds")
        XCTAssertTrue(
            failure?.description.hasPrefix(
                #"bad kinds "danmaku,giftt": holds the unknown kind "giftt" (known: danmaku, gift"#)
                ?? false, failure?.description ?? "")
    }

    func testBadEventIDs() {
        for bad in ["", "5", "5-", "-5", "a-1", "1-b", "1-2-3", " 1-2", "1-+2", "18446744073709551616-1"] {
            XCTAssertEqual(error([("since", bad)])?.parameter, "since", bad)
        }
        XCTAssertEqual(
            error([], lastEventID: "nope\r\n")?.description, #"bad Last-Event-ID "nope\xd\xa": is not an event id"#)
        XCTAssertEqual(EventID("18446744073709551615-0"), EventID(epoch: .max, sequence: 0))
        XCTAssertEqual(EventID(epoch: 3, sequence: 4).description, "3-4")
    }

    func testWebSocketSubscribeMessage() throws {
        let message = try Subscription.parse(webSocketMessage: Array(#"{"rooms":[3,4],"kinds":null,"x":1}"#.utf8))
        XCTAssertEqual(message, Subscription(rooms: [3, 4]))
        XCTAssertEqual(try Subscription.parse(webSocketMessage: Array("{}".utf8)), Subscription())
        for bad in [
            #"[1]"#, #"{"rooms":"1"}"#, #"{"rooms":[0]}"#, #"{"kinds":["x"]}"#, "not json", #"{"rooms":[1.5]}"#,
        ] {
            XCTAssertThrowsError(try Subscription.parse(webSocketMessage: Array(bad.utf8)), bad)
        }
    }
}
