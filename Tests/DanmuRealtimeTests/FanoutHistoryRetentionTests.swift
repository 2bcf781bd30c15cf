import DanmuClient
import EventLoop
import XCTest

@testable import DanmuRealtime

/// A removed room's history ring is forgotten (memory bounded by the rooms in use over weeks of adds and
/// removes), and a resume from before the forgetting says so with a gap instead of replaying a silent hole.
final class FanoutHistoryRetentionTests: XCTestCase {
    /// A weak reference to an event the hub holds, to see its storage freed.
    private final class WeakEvent: @unchecked Sendable {
        weak var event: PublishedEvent?
    }

    func testForgettingRemovedRoomsFreesTheirRingsAndEvents() throws {
        try withHub(.init(historyPerRoom: 10, epoch: 77)) { reactor, hub in
            // 200 rooms come and go, 20 events each: only the rooms still registered keep a ring.
            for round in 0..<20 {
                publish(hub, (1...200).map { danmaku(Int64($0), "r\(round)") })
            }
            XCTAssertEqual(hub.statistics.roomsInHistory, 200)
            XCTAssertEqual(hub.statistics.eventsInHistory, 2_000)
            let weak = WeakEvent()
            onLoop(reactor) { weak.event = hub.history.rooms[150]?[0] }
            XCTAssertNotNil(onLoop(reactor) { weak.event })
            onLoop(reactor) { hub.forgetHistory(ofRoomsNotIn: Set(1...10)) }
            XCTAssertEqual(hub.statistics.roomsInHistory, 10)
            XCTAssertEqual(hub.statistics.eventsInHistory, 100)
            XCTAssertEqual(onLoop(reactor) { hub.history.rooms.keys.sorted() }, Array(1...10))
            XCTAssertNil(onLoop(reactor) { weak.event }, "the forgotten ring's events are freed")
            onLoop(reactor) { hub.forgetHistory(of: 3) }
            XCTAssertEqual(hub.statistics.roomsInHistory, 9)
            XCTAssertEqual(hub.statistics.eventsInHistory, 90)
            // Forgetting what is not held changes nothing.
            onLoop(reactor) {
                hub.forgetHistory(of: 3)
                hub.forgetHistory(ofRoomsNotIn: Set(1...10))
            }
            XCTAssertEqual(hub.statistics.roomsInHistory, 9)
        }
    }

    func testAResumeFromBeforeAForgottenRoomGetsAHistoryGapWithAnUnknownCount() throws {
        try withHub(.init(historyPerRoom: 100, epoch: 77)) { reactor, hub in
            publish(hub, [danmaku(1, "a"), danmaku(2, "b"), danmaku(1, "c"), danmaku(2, "d")])
            onLoop(reactor) { hub.forgetHistory(of: 2) }
            let named = RecordingOutput()
            let kept = RecordingOutput()
            let every = RecordingOutput()
            let afterForgetting = RecordingOutput()
            onLoop(reactor) {
                let from = EventID(epoch: 77, sequence: 1)
                _ = hub.openEventStream(Subscription(rooms: [2], resumeAfter: from), output: named)
                _ = hub.openEventStream(Subscription(rooms: [1], resumeAfter: from), output: kept)
                _ = hub.openEventStream(Subscription(resumeAfter: from), output: every)
                _ = hub.openEventStream(
                    Subscription(rooms: [2], resumeAfter: EventID(epoch: 77, sequence: 4)), output: afterForgetting)
            }
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(named.text) },
                [#"{"type":"gap","reason":"history","missed":null,"rooms":[{"room":2,"missed":null}]}"#])
            // Room 1's ring vouches for everything after event 1: no gap, the rest replayed.
            XCTAssertEqual(onLoop(reactor) { sseGaps(kept.text) }, [])
            XCTAssertEqual(onLoop(reactor) { sseIDs(kept.text) }, ["77-3"])
            // Every room: the forgotten one is not named anywhere any more.
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(every.text) },
                [#"{"type":"gap","reason":"history","missed":null,"rooms":null}"#])
            XCTAssertEqual(onLoop(reactor) { sseIDs(every.text) }, ["77-3"])
            // Nothing was forgotten after event 4: no gap.
            XCTAssertEqual(onLoop(reactor) { sseGaps(afterForgetting.text) }, [])
            // The room comes back: its new ring starts after the resume point, so that is still reported.
            publish(hub, [danmaku(2, "e")])
            let returned = RecordingOutput()
            onLoop(reactor) {
                _ = hub.openEventStream(
                    Subscription(rooms: [2], resumeAfter: EventID(epoch: 77, sequence: 1)), output: returned)
            }
            XCTAssertEqual(onLoop(reactor) { sseGaps(returned.text).count }, 1)
            XCTAssertEqual(onLoop(reactor) { sseIDs(returned.text) }, ["77-5"])
        }
    }
}
