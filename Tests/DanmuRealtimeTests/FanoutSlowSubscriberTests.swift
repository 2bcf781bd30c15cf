import DanmuClient
import EventLoop
import XCTest

@testable import DanmuRealtime

/// A subscriber whose connection does not keep up: its own bound, the policy, the gap, the timeout.
final class FanoutSlowSubscriberTests: XCTestCase {
    func testSkipToNewestCountsSkippedThenSendsOneGapThenNewEvents() throws {
        try withHub(.init(subscriberQueueBytes: 1_000, epoch: 77)) { reactor, hub in
            let slow = RecordingOutput()
            let fast = RecordingOutput()
            let slowID = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(), output: fast)
                return hub.openEventStream(Subscription(), output: slow)
            }
            publish(hub, [danmaku(1, "delivered")])
            onLoop(reactor) { slow.pinnedPendingBytes = 5_000 }  // the client stopped reading
            publish(hub, [danmaku(1, "s1"), danmaku(2, "s2")])
            publish(hub, [danmaku(1, "s3")])
            XCTAssertEqual(onLoop(reactor) { sseIDs(slow.text) }, ["77-1"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(fast.text) }, ["77-1", "77-2", "77-3", "77-4"])
            XCTAssertEqual(hub.statistics.eventsSkipped, 3)
            // Drained: ONE gap naming both rooms, then new events.
            onLoop(reactor) {
                slow.pinnedPendingBytes = 0
                slow.reset()
                hub.outputDidDrain(slowID)
            }
            publish(hub, [danmaku(2, "after")])
            let text = onLoop(reactor) { slow.text }
            XCTAssertEqual(
                sseGaps(text),
                [#"{"type":"gap","reason":"slow","missed":3,"rooms":[{"room":1,"missed":2},{"room":2,"missed":1}]}"#]
            )
            XCTAssertEqual(sseIDs(text), ["77-5"])
            XCTAssertTrue(text.hasPrefix("event: gap\n"))
            let statistics = hub.statistics
            XCTAssertEqual(statistics.gapsReported, 1)
            XCTAssertEqual(statistics.subscribersDisconnected, 0)
            XCTAssertEqual(onLoop(reactor) { slow.closeCount }, 0)
        }
    }

    func testSkippingSubscriberWhoseQueueEmptiedGetsItsGapBeforeTheNextEvent() throws {
        try withHub(.init(subscriberQueueBytes: 100, epoch: 77)) { reactor, hub in
            let slow = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: slow) }
            onLoop(reactor) { slow.pinnedPendingBytes = 500 }
            publish(hub, [danmaku(1, "skipped")])
            onLoop(reactor) {
                slow.pinnedPendingBytes = 0  // drained, but no drain callback came
                slow.reset()
            }
            publish(hub, [danmaku(1, "next")])
            let text = onLoop(reactor) { slow.text }
            XCTAssertEqual(sseGaps(text).count, 1)
            XCTAssertEqual(sseIDs(text), ["77-2"])
            XCTAssertTrue(text.hasPrefix("event: gap\n"))
        }
    }

    func testDisconnectPolicyClosesTheSlowSubscriberOnlyAndCountsIt() throws {
        try withHub(.init(subscriberQueueBytes: 1_000, slowSubscriberPolicy: .disconnect, epoch: 77)) {
            reactor, hub in
            let slow = RecordingOutput()
            let fast = RecordingOutput()
            let slowID = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(), output: fast)
                return hub.openEventStream(Subscription(), output: slow)
            }
            // The HTTP layer reports the close from inside close(), re-entrantly.
            onLoop(reactor) {
                slow.onClose = { hub.subscriberDidClose(slowID) }
                slow.pinnedPendingBytes = 2_000
            }
            publish(hub, [danmaku(1, "a")])
            publish(hub, [danmaku(1, "b")])
            XCTAssertEqual(onLoop(reactor) { slow.closeCount }, 1)
            XCTAssertEqual(onLoop(reactor) { slow.closeNowCount }, 0)
            XCTAssertEqual(onLoop(reactor) { sseIDs(slow.text) }, [])
            XCTAssertEqual(onLoop(reactor) { sseIDs(fast.text) }, ["77-1", "77-2"])
            let statistics = hub.statistics
            XCTAssertEqual(statistics.subscribersDisconnected, 1)
            XCTAssertEqual(statistics.serverSentEventSubscribers, 1)
            XCTAssertEqual(onLoop(reactor) { hub.subscriberCount }, 1)
        }
    }

    func testDisconnectedWebSocketGets1008AndIsClosedAtOnceIfItNeverFlushes() throws {
        try withHub(
            .init(
                subscriberQueueBytes: 1_000, slowSubscriberPolicy: .disconnect, stalledSubscriberTimeout: .seconds(60),
                epoch: 77)
        ) { reactor, hub in
            let stalled = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: stalled) }
            // close() only starts a close after flush: with the queue never read, the connection stays.
            onLoop(reactor) {
                stalled.onClose = nil
                stalled.pinnedPendingBytes = 5_000
            }
            publish(hub, [danmaku(1, "a")])
            publish(hub, [danmaku(1, "b")])
            XCTAssertEqual(onLoop(reactor) { stalled.closeCount }, 1)
            var decoder = WebSocketFrameDecoder(role: .client)
            let frames = try decoder.feed(onLoop(reactor) { stalled.bytes })
            XCTAssertEqual(frames, [.close(WebSocketClose(code: .policyViolation, reason: "too slow"))])
            XCTAssertEqual(hub.statistics.subscribersDisconnected, 1)
            XCTAssertEqual(hub.statistics.webSocketSubscribers, 1)  // still connected until the close completes
            let start = onLoop(reactor) { reactor.now }
            let sentBefore = onLoop(reactor) { stalled.bytes.count }
            onLoop(reactor) {
                stalled.onClose = { hub.subscriberDidClose(id) }
                hub.sendKeepAlives(now: start)
                hub.sendKeepAlives(now: start + 61_000_000_000)
            }
            XCTAssertEqual(onLoop(reactor) { stalled.closeNowCount }, 1)
            XCTAssertEqual(hub.statistics.subscribersTimedOut, 1)
            XCTAssertEqual(hub.statistics.webSocketSubscribers, 0)
            XCTAssertEqual(onLoop(reactor) { stalled.bytes.count }, sentBefore)  // no ping behind the close
        }
    }

    func testSubscriberOverItsBoundForTheTimeoutIsClosedAtOnceWhateverThePolicy() throws {
        try withHub(.init(subscriberQueueBytes: 100, stalledSubscriberTimeout: .seconds(60), epoch: 77)) {
            reactor, hub in
            let stalled = RecordingOutput()
            let reading = RecordingOutput()
            let stalledID = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(), output: reading)
                return hub.openEventStream(Subscription(), output: stalled)
            }
            onLoop(reactor) {
                stalled.onClose = { hub.subscriberDidClose(stalledID) }
                stalled.pinnedPendingBytes = 1_000
            }
            publish(hub, [danmaku(1, "skipped")])
            let start = onLoop(reactor) { reactor.now }
            // Over its bound for 59 s: still open, and no keep-alive is queued behind the unread bytes.
            onLoop(reactor) {
                stalled.reset()
                hub.sendKeepAlives(now: start + 59_000_000_000)
            }
            XCTAssertEqual(onLoop(reactor) { stalled.closeNowCount + stalled.closeCount }, 0)
            XCTAssertEqual(onLoop(reactor) { stalled.chunks.count }, 0)
            onLoop(reactor) { hub.sendKeepAlives(now: start + 61_000_000_000) }
            XCTAssertEqual(onLoop(reactor) { stalled.closeNowCount }, 1)
            XCTAssertEqual(onLoop(reactor) { reading.closeNowCount + reading.closeCount }, 0)
            XCTAssertEqual(hub.statistics.subscribersTimedOut, 1)
            XCTAssertEqual(hub.statistics.subscribers, 1)
            XCTAssertTrue(onLoop(reactor) { reading.text.hasSuffix(": keep-alive\n\n") })
        }
    }

    func testSubscriberThatCatchesUpIsNotTimedOut() throws {
        try withHub(.init(subscriberQueueBytes: 100, stalledSubscriberTimeout: .seconds(60), epoch: 77)) {
            reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            onLoop(reactor) { output.pinnedPendingBytes = 1_000 }
            publish(hub, [danmaku(1, "skipped")])
            let start = onLoop(reactor) { reactor.now }
            onLoop(reactor) {
                output.pinnedPendingBytes = 0
                hub.outputDidDrain(id)  // the gap goes out; it is no longer stalled
                hub.sendKeepAlives(now: start + 120_000_000_000)
            }
            XCTAssertEqual(onLoop(reactor) { output.closeNowCount + output.closeCount }, 0)
            XCTAssertEqual(hub.statistics.subscribersTimedOut, 0)
            XCTAssertEqual(hub.statistics.gapsReported, 1)
        }
    }
}
