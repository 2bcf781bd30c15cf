import DanmuCodecs
@testable import DanmuPipeline
import XCTest

@testable import DanmuRealtime

/// The `/healthz` rules with a manual clock (no I/O): each condition must last its timeout before it is a problem,
/// and clears as soon as its cause does.
final class HealthMonitorTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000
    private let configuration = HealthMonitor.Configuration(
        noLiveRoomTimeout: .seconds(30), sinkStallTimeout: .seconds(20), hubStallTimeout: .seconds(5))

    func testNoLiveRoomIsAProblemOnlyAfterItsTimeoutAndClearsWhenARoomGoesLive() {
        var monitor = HealthMonitor(configuration: configuration, startedAt: 100 * second)
        let dark = HealthMonitor.Readings(rooms: 3, roomsLive: 0)
        XCTAssertEqual(monitor.observe(dark, now: 110 * second), [])
        XCTAssertEqual(monitor.observe(dark, now: 129 * second), [])
        let problems = monitor.observe(dark, now: 131 * second)
        XCTAssertEqual(problems.map(\.kind), [.noLiveRoom])
        XCTAssertEqual(problems.first?.detail, "none of 3 rooms live for 31 s")
        XCTAssertEqual(monitor.observe(.init(rooms: 3, roomsLive: 1), now: 132 * second), [])
        // The silence counts again from the last live reading.
        XCTAssertEqual(monitor.observe(dark, now: 161 * second), [])
        XCTAssertEqual(monitor.observe(dark, now: 163 * second).map(\.kind), [.noLiveRoom])
    }

    func testAZeroTimeoutFlagsOnlyWhileNoRoomIsLive() {
        // Regression: `silent >= 0` held for every reading, so a zero timeout reported live rooms as dark.
        var monitor = HealthMonitor(configuration: .init(noLiveRoomTimeout: .zero), startedAt: 0)
        XCTAssertEqual(monitor.observe(.init(rooms: 0, roomsLive: 0), now: 1 * second), [])
        XCTAssertEqual(monitor.observe(.init(rooms: 2, roomsLive: 1), now: 2 * second), [])
        XCTAssertEqual(monitor.observe(.init(rooms: 2, roomsLive: 0), now: 2 * second).map(\.kind), [.noLiveRoom])
    }

    func testNoRegisteredRoomIsHealthy() {
        var monitor = HealthMonitor(configuration: configuration, startedAt: 0)
        XCTAssertEqual(monitor.observe(.init(rooms: 0, roomsLive: 0), now: 1_000 * second), [])
    }

    func testASinkWithPendingRecordsThatWritesNothingIsStalledAndOneThatWritesIsNot() {
        var monitor = HealthMonitor(configuration: configuration, startedAt: 0)
        var stuck = SinkStatistics()
        stuck.written = 10
        stuck.queuedRecords = 4
        stuck.lastError = "connection refused"
        var idle = SinkStatistics()
        idle.written = 50
        func readings(_ stuck: SinkStatistics, _ idle: SinkStatistics) -> HealthMonitor.Readings {
            .init(
                rooms: 1, roomsLive: 1, sinks: [(name: "redis", statistics: stuck), (name: "file", statistics: idle)])
        }
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 1 * second), [])
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 20 * second), [])
        let problems = monitor.observe(readings(stuck, idle), now: 21 * second)
        XCTAssertEqual(problems.map(\.kind), [.sinkStalled])
        XCTAssertEqual(
            problems.first?.detail,
            "sink redis: 4 records queued, 0 bytes spooled, none written for 20 s (last error: connection refused)")
        // Progress clears it and restarts the clock.
        stuck.written = 11
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 22 * second), [])
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 41 * second), [])
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 42 * second).map(\.kind), [.sinkStalled])
        // Nothing pending: an idle sink is healthy however long it writes nothing.
        stuck.queuedRecords = 0
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 500 * second), [])
        // A spool backlog without progress counts like queued records.
        stuck.backlogBytes = 4_096
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 501 * second), [])
        XCTAssertEqual(monitor.observe(readings(stuck, idle), now: 521 * second).map(\.kind), [.sinkStalled])
    }

    func testAnEventWaitingForTheHubsLoopTooLongIsAHubStall() {
        var monitor = HealthMonitor(configuration: configuration, startedAt: 0)
        var readings = HealthMonitor.Readings(rooms: 1, roomsLive: 1, hubQueuedSince: 10 * second)
        XCTAssertEqual(monitor.observe(readings, now: 14 * second), [])
        XCTAssertEqual(monitor.observe(readings, now: 15 * second).map(\.kind), [.hubStalled])
        readings.hubQueuedSince = nil
        XCTAssertEqual(monitor.observe(readings, now: 16 * second), [])
    }

    func testTheDocumentNamesStatusAndProblemsAndEscapesTheDetail() throws {
        let problems = [HealthMonitor.Problem(kind: .sinkStalled, detail: "sink \"a\"\nb")]
        let bytes = HealthMonitor.document(
            problems: problems, rooms: 2, roomsLive: 0, subscribers: 5, uptimeSeconds: 1.5)
        let document = try JSONDocument(parsing: bytes, maxDepth: 8)
        XCTAssertEqual(document.root["status"]?.string, "unhealthy")
        XCTAssertEqual(document.root["rooms"]?.int64, 2)
        let first = try XCTUnwrap(document.root["problems"].map { Array($0.elements) }?.first)
        XCTAssertEqual(first["problem"]?.string, "sink_stalled")
        XCTAssertEqual(first["detail"]?.string, "sink \"a\"\nb")
        let healthy = HealthMonitor.document(problems: [], rooms: 0, roomsLive: 0, subscribers: 0, uptimeSeconds: 0)
        XCTAssertEqual(try JSONDocument(parsing: healthy, maxDepth: 8).root["status"]?.string, "ok")
    }
}
