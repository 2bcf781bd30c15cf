import DanmuSimulator
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import DanmuClient

/// A resolver double: hands out the simulator's address with a token that is wrong for the first `badTokens`
/// calls, and counts calls.
private final class ScriptedResolver: RoomEndpointResolving {
    let server: ServerAddress
    let goodToken: String
    let badTokens: Int
    let calls = Atomic<Int>(0)

    init(server: ServerAddress, goodToken: String, badTokens: Int) {
        self.server = server
        self.goodToken = goodToken
        self.badTokens = badTokens
    }

    func resolveEndpoint(room: Int64, refresh: Bool) throws(RoomResolutionError) -> RoomEndpoint {
        let call = calls.add(1, ordering: .relaxed).newValue
        if room == 404 { throw RoomResolutionError("room 404 does not exist", permanent: true) }
        let token = call <= badTokens ? "stale-token" : goodToken
        // Two hosts: a dead one first (nothing listens on port 1), so rotation is exercised too.
        return RoomEndpoint(roomID: room, token: token, servers: [.init(host: "127.0.0.1", port: 1), server])
    }
}

final class CollectorLifecycleTests: XCTestCase {
    func testRemovingRoomStopsItsTrafficAndFreesItsDescriptor() throws {
        let simulator = try SimulatorHarness(.init(rooms: .range(1...3), ratePerRoom: 50, mix: danmakuOnly))
        defer { simulator.close() }
        let recorder = SequenceRecorder()
        let collector = try startCollector(
            testCollectorConfiguration(server: simulator.server), handler: recorder, rooms: 1...3)
        XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 3 && recorder.count(2) > 5 })
        let fds = openFileDescriptorCount()

        collector.remove(room: 2)
        // Both ends live in this process: the collector's socket and the simulator's accepted one.
        XCTAssertTrue(waitUntil { openFileDescriptorCount() == fds - 2 }, "fd of room 2 not closed")
        XCTAssertTrue(waitUntil { simulator.simulator.statistics().connectionsOpen == 2 })
        XCTAssertEqual(collector.rooms, [1, 3])
        XCTAssertNil(collector.statistics()[room: 2])
        usleep(100_000)
        let afterRemoval = recorder.count(2)
        let others = recorder.count(1)
        usleep(300_000)
        XCTAssertEqual(recorder.count(2), afterRemoval, "room 2 still delivers after removal")
        XCTAssertGreaterThan(recorder.count(1), others, "room 1 must keep going")

        // Re-adding starts a fresh session whose sequence continues where the simulator left off.
        collector.add(room: 2)
        XCTAssertTrue(waitUntil { recorder.count(2) > afterRemoval + 5 })
        XCTAssertEqual(recorder.violations, 0)
        collector.shutdown()
    }

    func testResolverPathRefreshesTokenAfterAuthFailureAndRotatesHosts() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...5), ratePerRoom: 20, mix: danmakuOnly, requiredKey: "fresh-token"))
        defer { simulator.close() }
        let resolver = ScriptedResolver(server: simulator.server, goodToken: "fresh-token", badTokens: 1)
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.server = nil
        configuration.resolver = resolver
        let recorder = SequenceRecorder()
        let collector = try startCollector(configuration, handler: recorder, rooms: [3])
        collector.add(room: 404)

        XCTAssertTrue(
            waitUntil { recorder.count(3) >= 10 }, "room 3 never got messages: \(collector.statistics().rooms)")
        let room = try XCTUnwrap(collector.statistics()[room: 3])
        XCTAssertEqual(room.phase, .live)
        XCTAssertGreaterThanOrEqual(resolver.calls.load(ordering: .relaxed), 2, "stale token must be re-fetched")
        XCTAssertGreaterThanOrEqual(room.errors, 2, "a refused host and a rejected token")
        XCTAssertTrue(waitUntil { collector.statistics()[room: 404]?.phase == .givenUp })
        XCTAssertEqual(collector.statistics()[room: 404]?.lastError, .resolveFailed("room 404 does not exist"))
        collector.shutdown()
    }

    func testLifecycleErrorsAndIdempotentShutdown() throws {
        XCTAssertThrowsError(try DanmuCollector(configuration: .init(server: .init(host: "", port: 1)))) { error in
            guard case CollectorError.badServer = error else { return XCTFail("\(error)") }
        }
        let simulator = try SimulatorHarness(.init(rooms: .range(1...2), ratePerRoom: 1))
        defer { simulator.close() }
        let collector = try DanmuCollector(configuration: testCollectorConfiguration(server: simulator.server))
        collector.add(room: 1)  // before start: waits, then connects on start
        XCTAssertEqual(collector.statistics()[room: 1]?.phase, .idle)
        try collector.start()
        XCTAssertThrowsError(try collector.start()) { XCTAssertEqual($0 as? CollectorError, .alreadyStarted) }
        XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 1 })
        collector.shutdown()
        collector.shutdown()
        collector.add(room: 2)
        XCTAssertEqual(collector.rooms, [1])
        XCTAssertThrowsError(try collector.start()) { XCTAssertEqual($0 as? CollectorError, .shutDown) }
    }

    func testShutdownWithoutStartReleasesEverything() throws {
        let fds = openFileDescriptorCount()
        let collector = try DanmuCollector(
            configuration: .init(server: .init(host: "127.0.0.1", port: 9), workers: 1))
        collector.add(rooms: [1, 2])
        collector.shutdown()
        XCTAssertEqual(openFileDescriptorCount(), fds)
    }

    func testUnreachableServerBacksOffAndCountsFailures() throws {
        var configuration = testCollectorConfiguration(server: .init(host: "127.0.0.1", port: 1))
        configuration.timing.backoff = BackoffPolicy(initial: .milliseconds(10), maximum: .milliseconds(40))
        let collector = try DanmuCollector(configuration: configuration)
        try collector.start()
        collector.add(room: 7)
        XCTAssertTrue(waitUntil { (collector.statistics()[room: 7]?.reconnects ?? 0) >= 3 })
        let room = try XCTUnwrap(collector.statistics()[room: 7])
        XCTAssertGreaterThanOrEqual(room.errors, 3)
        guard case .connectFailed? = room.lastError else { return XCTFail("\(String(describing: room.lastError))") }
        collector.shutdown()
    }
}

final class CollectorEventStreamTests: XCTestCase {
    func testEventsReadAfterShutdownEndAtOnce() async throws {
        let collector = try DanmuCollector(configuration: .init(server: .init(host: "127.0.0.1", port: 9), workers: 1))
        collector.shutdown()
        // At the deadline the buffer itself is finished, so a stream that failed to end fails this test in 10 s
        // instead of hanging it (an `onDeadline` that does nothing would leave the iterator parked for good).
        let events = collector.makeEventStream()
        let outcome = try await iterate(events, deadline: .seconds(10), onDeadline: { events.buffer.finish() }) { _ in
            true
        }
        XCTAssertFalse(outcome.timedOut, "the stream of a shut-down collector must end at once: \(outcome)")
        XCTAssertTrue(outcome.sequenceEnded, "\(outcome)")
        XCTAssertEqual(outcome.elements, 0)
    }

    func testStreamDeliversEveryRoomInOrderAndEndsAfterShutdown() async throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...3), ratePerRoom: 0, messageLimitPerRoom: 200, batchSize: 7, mix: danmakuOnly))
        defer { simulator.close() }
        let collector = try DanmuCollector(configuration: testCollectorConfiguration(server: simulator.server))
        let events = collector.makeEventStream()
        try collector.start()
        collector.add(rooms: 1...3)
        var seqs: [Int64: [UInt64]] = [:]
        var total = 0
        let outcome = try await iterate(events, deadline: .seconds(60), onDeadline: { collector.shutdown() }) {
            event in
            if case .danmaku(let danmaku) = event.event, let id = danmaku.idStr.flatMap(SimulatedMessageID.init) {
                seqs[event.room, default: []].append(id.seq)
                total += 1
            }
            return total < 600
        }
        XCTAssertFalse(outcome.timedOut, "\(outcome); danmaku per room: \(seqs.mapValues(\.count))")
        for room in Int64(1)...3 { XCTAssertEqual(seqs[room], Array(1...200), "room \(room)") }
        collector.shutdown()
        // After shutdown the sequence ends (possibly after a few heartbeat replies still buffered), promptly.
        var extraDanmaku = 0
        let end = try await iterate(events, deadline: .seconds(10), onDeadline: { events.buffer.finish() }) { event in
            if case .danmaku = event.event { extraDanmaku += 1 }
            return true
        }
        XCTAssertTrue(end.sequenceEnded && !end.timedOut, "the stream did not end after shutdown: \(end)")
        XCTAssertEqual(extraDanmaku, 0, "danmaku beyond the 200 per room sent")
    }
}
