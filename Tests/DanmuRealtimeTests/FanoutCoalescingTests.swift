import DanmuClient
import DanmuCodecs
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// Coalescing: events that arrive within `flushInterval` of the last flush reach each subscriber as ONE write, and
/// subscribers that want the same events share one array. The issue-13 cause: one ~430 B write per (event,
/// subscriber) cost 5–8.6 µs of CPU each, so 100 events/s to 10,000 subscribers needed more CPU than the machine had.
final class FanoutCoalescingTests: XCTestCase {
    /// Hands a batch to the hub and waits until the loop ran its drain task, WITHOUT forcing a flush (unlike
    /// `publish`): the task ran, but the flush interval may hold the events back.
    private func handOver(_ hub: EventHub, _ events: [RoomEvent]) {
        hub.handle(batch: events)
        _ = hub.reactor.executeAndWait {}
    }

    func testEventsWithinTheFlushIntervalReachEachSubscriberAsOneWrite() throws {
        // 10 s: nothing but `flushNow` releases the held events during the test.
        try withHub(.init(flushInterval: .seconds(10), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            onLoop(reactor) { output.reset() }
            // The first event after a quiet spell goes out at once.
            handOver(hub, [danmaku(1, "a")])
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 1)
            // Three more batches within the interval: held, not written one by one.
            handOver(hub, [danmaku(1, "b")])
            handOver(hub, [danmaku(2, "c")])
            handOver(hub, [danmaku(1, "d")])
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 1)
            XCTAssertEqual(hub.statistics.flushes, 1)
            XCTAssertNotNil(hub.oldestQueuedEventSince)
            onLoop(reactor) { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 2)
            XCTAssertEqual(
                onLoop(reactor) { sseIDs(String(decoding: output.chunks[1], as: UTF8.self)) },
                ["77-2", "77-3", "77-4"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-1", "77-2", "77-3", "77-4"])
            XCTAssertNil(hub.oldestQueuedEventSince)
            let statistics = hub.statistics
            XCTAssertEqual(statistics.flushes, 2)
            XCTAssertEqual(statistics.deliveries, 4)
        }
    }

    func testHeldEventsAreFlushedByTheTimerWithoutAnotherEvent() throws {
        try withHub(.init(flushInterval: .milliseconds(50), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            handOver(hub, [danmaku(1, "a")])
            handOver(hub, [danmaku(1, "b")])
            handOver(hub, [danmaku(1, "c")])
            XCTAssertTrue(
                pollUntil(timeout: .seconds(10), interval: .milliseconds(5)) {
                    onLoop(reactor) { sseIDs(output.text) } == ["77-1", "77-2", "77-3"]
                }, onLoop(reactor) { output.text })
            // At most two flushes: the first at once, the rest together (or, on a stalled machine, separately
            // once the interval had passed; never more writes than flushes).
            XCTAssertLessThanOrEqual(hub.statistics.flushes, 3)
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 1 + Int(hub.statistics.flushes))
        }
    }

    func testSubscribersWantingTheSameEventsShareOneArray() throws {
        try withHub { reactor, hub in
            let outputs = (0..<3).map { _ in RecordingOutput() }
            let other = RecordingOutput()
            onLoop(reactor) {
                for output in outputs { _ = hub.openEventStream(Subscription(rooms: [1]), output: output) }
                _ = hub.openEventStream(Subscription(rooms: [1], kinds: [.danmaku]), output: other)
                for output in outputs + [other] { output.reset() }
            }
            publish(hub, [danmaku(1, "a"), popularity(1, 5), danmaku(1, "b")])
            let addresses = onLoop(reactor) {
                outputs.map { $0.chunks[0].withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
            }
            XCTAssertEqual(Set(addresses).count, 1, "one array for the three subscribers of room 1")
            XCTAssertEqual(onLoop(reactor) { sseIDs(outputs[2].text) }, ["77-1", "77-2", "77-3"])
            // Another filter gets its own bytes: the danmaku only.
            XCTAssertEqual(onLoop(reactor) { sseIDs(other.text) }, ["77-1", "77-3"])
            XCTAssertEqual(hub.statistics.deliveries, 11)
        }
    }

    func testACoalescedFlushKeepsTheSlowSubscriberPolicyPerSubscriber() throws {
        try withHub(.init(subscriberQueueBytes: 1_000, flushInterval: .seconds(10), epoch: 77)) { reactor, hub in
            let fast = RecordingOutput()
            let slow = RecordingOutput()
            onLoop(reactor) {
                _ = hub.openEventStream(Subscription(), output: fast)
                _ = hub.openEventStream(Subscription(), output: slow)
                slow.pinnedPendingBytes = 5_000
            }
            handOver(hub, [danmaku(1, "a")])
            handOver(hub, [danmaku(1, "b"), danmaku(2, "c")])
            onLoop(reactor) { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { sseIDs(fast.text) }, ["77-1", "77-2", "77-3"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(slow.text) }, [])
            XCTAssertEqual(hub.statistics.eventsSkipped, 3)
            // Once it drained, one gap with the per-room counts, then events again.
            onLoop(reactor) { slow.pinnedPendingBytes = 0 }
            handOver(hub, [danmaku(1, "d")])
            onLoop(reactor) { hub.flushNow() }
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(slow.text) },
                [#"{"type":"gap","reason":"slow","missed":3,"rooms":[{"room":1,"missed":2},{"room":2,"missed":1}]}"#])
            XCTAssertEqual(onLoop(reactor) { sseIDs(slow.text) }, ["77-4"])
        }
    }

    func testWebSocketSubscribersGetEveryEventOfAFlushAsItsOwnFrameInOrder() throws {
        try withHub(.init(flushInterval: .seconds(10), epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            handOver(hub, [danmaku(1, "a")])
            handOver(hub, [danmaku(1, "b")])
            handOver(hub, [danmaku(2, "c")])
            onLoop(reactor) { hub.flushNow() }
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 2)
            var decoder = WebSocketFrameDecoder(role: .client)
            var events: [WebSocketFrameDecoder.Event] = []
            let bytes = onLoop(reactor) { output.bytes }
            try bytes.withUnsafeBytes { try decoder.feed($0, into: &events) }
            let ids = try events.map { event -> String in
                guard case .message(.text, let payload) = event else { throw TestSetupFailure("not text: \(event)") }
                let document = try JSONDocument(parsing: payload, maxDepth: 8)
                return document.root["id"]?.string ?? "?"
            }
            XCTAssertEqual(ids, ["77-1", "77-2", "77-3"])
        }
    }

    func testCloseCancelsAHeldFlushAndCountsItsEventsDropped() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let hub = EventHub(reactor: reactor, configuration: .init(flushInterval: .seconds(10), epoch: 77))
        let output = RecordingOutput()
        _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
        handOver(hub, [danmaku(1, "a")])
        handOver(hub, [danmaku(1, "b"), danmaku(1, "c")])
        let timers = onLoop(reactor) { reactor.pendingTimerCount }
        hub.close()
        XCTAssertEqual(onLoop(reactor) { reactor.pendingTimerCount }, timers - 2, "flush and keep-alive timers")
        XCTAssertEqual(hub.statistics.eventsDropped, 2)
        XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-1"])
    }
}
