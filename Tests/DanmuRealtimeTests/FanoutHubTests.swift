import DanmuClient
import DanmuCodecs
import EventLoop
import Glibc
import XCTest

@testable import DanmuRealtime

// MARK: Test doubles shared by the Fanout*Tests files

/// A `SubscriberOutput` that records what the hub sends. Used on the loop; the test thread reads it only after an
/// `executeAndWait` (which orders the accesses), hence `@unchecked Sendable`.
final class RecordingOutput: SubscriberOutput, @unchecked Sendable {
    private(set) var chunks: [[UInt8]] = []
    private(set) var closeCount = 0
    private(set) var closeNowCount = 0
    /// What `pendingBytes` reports: a test pins it high to play a subscriber that does not read.
    var pinnedPendingBytes = 0
    /// Runs inside `close()`, as the HTTP layer's `didClose` would (re-entrant `subscriberDidClose`).
    var onClose: (() -> Void)?

    func send(_ bytes: [UInt8]) { chunks.append(bytes) }
    var pendingBytes: Int { pinnedPendingBytes }
    func close() {
        closeCount += 1
        onClose?()
    }
    func closeNow() {
        closeNowCount += 1
        onClose?()
    }

    var bytes: [UInt8] { chunks.flatMap { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
    func reset() { chunks = [] }
}

/// A started reactor and a hub on it, shut down after `body`.
func withHub<T>(
    _ configuration: EventHub.Configuration = .init(epoch: 77), _ body: (Reactor, EventHub) throws -> T
) throws -> T {
    let reactor = try Reactor()
    try reactor.start()
    let hub = EventHub(reactor: reactor, configuration: configuration)
    defer {
        hub.close()
        reactor.shutdown()
    }
    return try body(reactor, hub)
}

/// Runs `body` on the loop and returns its result; fails the test if the reactor refused.
func onLoop<T: Sendable>(_ reactor: Reactor, _ body: @escaping @Sendable () -> T) -> T {
    guard let result = reactor.executeAndWait(body) else { fatalError("the reactor is not running") }
    return result
}

/// Publishes `events` as one worker batch and waits until the loop has delivered them (the drain task was queued
/// first, and the loop runs tasks in order; `flushNow` then delivers whatever the flush interval held back).
func publish(_ hub: EventHub, _ events: [RoomEvent]) {
    hub.handle(batch: events)
    _ = hub.reactor.executeAndWait { hub.flushNow() }
}

/// 2025-11-21T18:33:20.123Z in nanoseconds, the time of docs/json-lines.md's examples.
let exampleTime: Int64 = 1_763_750_000_123_000_000

func danmaku(_ room: Int64, _ text: String) -> RoomEvent {
    var value = Danmaku()
    value.text = text
    value.uname = "tester"
    return RoomEvent(room: room, receivedAt: exampleTime, event: .danmaku(value))
}

func popularity(_ room: Int64, _ count: UInt32) -> RoomEvent {
    RoomEvent(room: room, receivedAt: exampleTime, event: .popularity(count))
}

/// The JSON Lines object of `event`, without the newline: what every wire form must carry.
func jsonLine(_ event: RoomEvent) -> String {
    var writer = JSONWriter()
    writeJSONLine(room: event.room, receivedAt: event.receivedAt, event: event.event, into: &writer)
    return String(decoding: writer.bytes.dropLast(), as: UTF8.self)
}

/// The `id:` values of an SSE body, in order.
func sseIDs(_ text: String) -> [String] {
    text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
}

/// The `data:` values of the SSE events named `gap`.
func sseGaps(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: gap\n") }.map {
        String($0.dropFirst("event: gap\ndata: ".count))
    }
}

extension String {
    /// Splits on a separator string (no Foundation).
    func components(separatedBy separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}

// MARK: SSE delivery, replay and gaps

final class FanoutHubTests: XCTestCase {
    func testSSEWireTextIsByteExactForOneEvent() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            publish(hub, [popularity(7, 2466)])
            let expected =
                "retry: 3000\n\n" + "id: 77-1\n"
                + "data: {\"room\":7,\"cmd\":\"HEARTBEAT_REPLY\",\"kind\":\"popularity\",\"received_at\":1763750000123,"
                + "\"popularity\":2466}\n\n"
            XCTAssertEqual(onLoop(reactor) { output.text }, expected)
        }
    }

    func testDanmakuWithNewlinesIsOneDataLineWithTheJSONLinesObject() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            let event = danmaku(5, "first line\nsecond line\r\n")
            publish(hub, [event])
            let text = onLoop(reactor) { output.text }
            XCTAssertEqual(text, "retry: 3000\n\nid: 77-1\ndata: \(jsonLine(event))\n\n")
            XCTAssertFalse(jsonLine(event).contains("\n"))
            XCTAssertTrue(text.contains("first line\\nsecond line\\r\\n"))
        }
    }

    func testIDsIncreaseAcrossRoomsAndBatchesAreOneWrite() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            publish(hub, [danmaku(1, "a"), danmaku(2, "b"), danmaku(1, "c")])
            publish(hub, [danmaku(3, "d")])
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-1", "77-2", "77-3", "77-4"])
            // The preamble, then ONE write for the three events of the first drain, then one for the fourth.
            XCTAssertEqual(onLoop(reactor) { output.chunks.count }, 3)
            XCTAssertEqual(hub.newestEventID, EventID(epoch: 77, sequence: 4))
            let statistics = hub.statistics
            XCTAssertEqual(statistics.eventsPublished, 4)
            XCTAssertEqual(statistics.deliveries, 4)
            XCTAssertEqual(statistics.roomsInHistory, 3)
            XCTAssertEqual(statistics.serverSentEventSubscribers, 1)
        }
    }

    func testRoomsAndKindsFilter() throws {
        try withHub { reactor, hub in
            let onlyRoom2 = RecordingOutput()
            let onlyPopularity = RecordingOutput()
            let both = RecordingOutput()
            _ = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(rooms: [2]), output: onlyRoom2)
                _ = hub.openEventStream(Subscription(kinds: [.popularity]), output: onlyPopularity)
                return hub.openEventStream(Subscription(rooms: [1], kinds: [.danmaku]), output: both)
            }
            publish(hub, [danmaku(1, "a"), danmaku(2, "b"), popularity(1, 9), popularity(2, 10)])
            XCTAssertEqual(onLoop(reactor) { sseIDs(onlyRoom2.text) }, ["77-2", "77-4"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(onlyPopularity.text) }, ["77-3", "77-4"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(both.text) }, ["77-1"])
            XCTAssertEqual(hub.statistics.deliveries, 5)
        }
    }

    func testSubscriberOfSeveralRoomsGetsEachEventOnceInOneWritePerDrain() throws {
        try withHub { reactor, hub in
            let twoRooms = RecordingOutput()
            let roomOne = RecordingOutput()
            let closedOne = RecordingOutput()
            let closedID = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(rooms: [1, 2]), output: twoRooms)
                _ = hub.openEventStream(Subscription(rooms: [1]), output: roomOne)
                return hub.openEventStream(Subscription(rooms: [2]), output: closedOne)
            }
            onLoop(reactor) {
                twoRooms.reset()
                roomOne.reset()
                hub.subscriberDidClose(closedID)
            }
            publish(hub, [danmaku(2, "a"), danmaku(1, "b"), danmaku(2, "c"), danmaku(3, "d")])
            XCTAssertEqual(onLoop(reactor) { twoRooms.chunks.count }, 1)
            XCTAssertEqual(onLoop(reactor) { sseIDs(twoRooms.text) }, ["77-1", "77-2", "77-3"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(roomOne.text) }, ["77-2"])
            XCTAssertEqual(onLoop(reactor) { sseIDs(closedOne.text) }, [])
            XCTAssertEqual(hub.statistics.deliveries, 4)
        }
    }

    func testResumeReplaysHistoryAfterTheGivenIDThenLiveEvents() throws {
        try withHub { reactor, hub in
            publish(hub, (1...5).map { danmaku($0 % 2 == 0 ? 2 : 1, "m\($0)") })
            let output = RecordingOutput()
            let resume = Subscription(resumeAfter: EventID(epoch: 77, sequence: 2))
            _ = onLoop(reactor) { hub.openEventStream(resume, output: output) }
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-3", "77-4", "77-5"])
            XCTAssertEqual(onLoop(reactor) { sseGaps(output.text) }, [])
            publish(hub, [danmaku(2, "m6")])
            XCTAssertEqual(onLoop(reactor) { sseIDs(output.text) }, ["77-3", "77-4", "77-5", "77-6"])
            // Room 2 only: its events after 77-1.
            let room2 = RecordingOutput()
            let resumeRoom2 = Subscription(rooms: [2], resumeAfter: EventID(epoch: 77, sequence: 1))
            _ = onLoop(reactor) { hub.openEventStream(resumeRoom2, output: room2) }
            XCTAssertEqual(onLoop(reactor) { sseIDs(room2.text) }, ["77-2", "77-4", "77-6"])
        }
    }

    func testResumeOlderThanTheRingReportsAGapBeforeTheReplay() throws {
        try withHub(.init(historyPerRoom: 3, epoch: 77)) { reactor, hub in
            publish(hub, (1...5).map { danmaku(9, "m\($0)") })  // the ring keeps 3, 4, 5
            publish(hub, [danmaku(8, "other room")])  // 6, nothing evicted in room 8
            // From before everything: the 2 evicted events are exactly known.
            let fromStart = RecordingOutput()
            _ = onLoop(reactor) {
                hub.openEventStream(Subscription(resumeAfter: EventID(epoch: 77, sequence: 0)), output: fromStart)
            }
            let text = onLoop(reactor) { fromStart.text }
            XCTAssertEqual(
                sseGaps(text), [#"{"type":"gap","reason":"history","missed":2,"rooms":[{"room":9,"missed":2}]}"#])
            XCTAssertEqual(sseIDs(text), ["77-3", "77-4", "77-5", "77-6"])
            XCTAssertLessThan(
                text.firstRange(of: "event: gap")!.lowerBound, text.firstRange(of: "id: 77-3")!.lowerBound)
            // From inside the evicted range: some missed, how many is not known.
            let fromMiddle = RecordingOutput()
            _ = onLoop(reactor) {
                hub.openEventStream(
                    Subscription(rooms: [9], resumeAfter: EventID(epoch: 77, sequence: 1)), output: fromMiddle)
            }
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(fromMiddle.text) },
                [#"{"type":"gap","reason":"history","missed":null,"rooms":[{"room":9,"missed":null}]}"#])
            // From the last evicted one on: nothing missed, no gap.
            let covered = RecordingOutput()
            _ = onLoop(reactor) {
                hub.openEventStream(Subscription(resumeAfter: EventID(epoch: 77, sequence: 2)), output: covered)
            }
            XCTAssertEqual(onLoop(reactor) { sseGaps(covered.text) }, [])
            XCTAssertEqual(onLoop(reactor) { sseIDs(covered.text) }, ["77-3", "77-4", "77-5", "77-6"])
            XCTAssertEqual(hub.statistics.gapsReported, 2)
            XCTAssertEqual(hub.statistics.eventsInHistory, 4)
        }
    }

    func testResumeFromAnotherEpochIsARestartGapThenEverythingHeld() throws {
        try withHub { reactor, hub in
            publish(hub, [danmaku(1, "a"), danmaku(2, "b")])
            let all = RecordingOutput()
            let named = RecordingOutput()
            _ = onLoop(reactor) {
                _ = hub.openEventStream(Subscription(resumeAfter: EventID(epoch: 76, sequence: 900)), output: all)
                return hub.openEventStream(
                    Subscription(rooms: [2, 3], resumeAfter: EventID(epoch: 76, sequence: 900)), output: named)
            }
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(all.text) },
                [#"{"type":"gap","reason":"restart","missed":null,"rooms":null}"#])
            XCTAssertEqual(onLoop(reactor) { sseIDs(all.text) }, ["77-1", "77-2"])
            XCTAssertEqual(
                onLoop(reactor) { sseGaps(named.text) },
                [
                    #"{"type":"gap","reason":"restart","missed":null,"rooms":[{"room":2,"missed":null},"#
                        + #"{"room":3,"missed":null}]}"#
                ])
            XCTAssertEqual(onLoop(reactor) { sseIDs(named.text) }, ["77-2"])
        }
    }

    func testReplayIsCutToTheNewestEventsThatFitAndTheRestCounted() throws {
        // Nine events of one size (single-digit ids), rooms 1 (odd ids) and 2 (even ids); room for three.
        let size = "id: 77-1\ndata: \(jsonLine(popularity(1, 1_001)))\n\n".utf8.count
        let events = (1...9).map { popularity($0 % 2 == 0 ? 2 : 1, UInt32(1_000 + $0)) }
        try withHub(.init(maxReplayBytes: 3 * size + size / 2, epoch: 77)) { reactor, hub in
            publish(hub, events)
            let output = RecordingOutput()
            _ = onLoop(reactor) {
                hub.openEventStream(Subscription(resumeAfter: EventID(epoch: 77, sequence: 0)), output: output)
            }
            let text = onLoop(reactor) { output.text }
            XCTAssertEqual(sseIDs(text), ["77-7", "77-8", "77-9"])
            XCTAssertEqual(
                sseGaps(text),
                [
                    #"{"type":"gap","reason":"replay_limit","missed":6,"rooms":[{"room":1,"missed":3},"#
                        + #"{"room":2,"missed":3}]}"#
                ])
        }
        // With evictions too: room 1 keeps 5, 7, 9 (lost 1, 3), room 2 keeps 4, 6, 8 (lost 2); 5, 4, 6 do not fit.
        try withHub(.init(historyPerRoom: 3, maxReplayBytes: 3 * size + size / 2, epoch: 77)) { reactor, hub in
            publish(hub, events)
            let output = RecordingOutput()
            _ = onLoop(reactor) {
                hub.openEventStream(Subscription(resumeAfter: EventID(epoch: 77, sequence: 0)), output: output)
            }
            let text = onLoop(reactor) { output.text }
            XCTAssertEqual(sseIDs(text), ["77-7", "77-8", "77-9"])
            XCTAssertEqual(
                sseGaps(text),
                [
                    #"{"type":"gap","reason":"history","missed":6,"rooms":[{"room":1,"missed":3},"#
                        + #"{"room":2,"missed":3}]}"#
                ])
        }
    }

    func testKeepAliveCommentAndCloseOfEverySubscriber() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            onLoop(reactor) {
                output.reset()
                hub.sendKeepAlives(now: reactor.now)
            }
            XCTAssertEqual(onLoop(reactor) { output.text }, ": keep-alive\n\n")
            hub.close()
            XCTAssertEqual(onLoop(reactor) { output.closeCount }, 1)
            XCTAssertEqual(hub.statistics.subscribers, 0)
            // After close: events are dropped, a late subscriber is closed at once, a late callback is ignored.
            publish(hub, [danmaku(1, "late")])
            let late = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: late) }
            XCTAssertEqual(onLoop(reactor) { late.closeCount }, 1)
            onLoop(reactor) { hub.subscriberDidClose(id) }
            XCTAssertEqual(hub.statistics.eventsDropped, 1)
            XCTAssertEqual(onLoop(reactor) { hub.subscriberCount }, 0)
        }
    }

    func testEventsFromManyThreadsArriveOnceEachInIDOrder() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openEventStream(Subscription(), output: output) }
            let threads = (0..<4).map { worker in
                try! PosixThread.spawn(name: "publisher-\(worker)") {
                    for i in 0..<250 { hub.handle(batch: [danmaku(Int64(worker + 1), "\(i)"), danmaku(9, "x")]) }
                }
            }
            for thread in threads { thread.join() }
            _ = reactor.executeAndWait { hub.flushNow() }
            let ids = onLoop(reactor) { sseIDs(output.text) }
            XCTAssertEqual(ids, (1...2_000).map { "77-\($0)" })
            XCTAssertEqual(hub.statistics.eventsPublished, 2_000)
        }
    }
}
