import DanmuClient
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// `/healthz` reflects the collector's health, and rooms removed from the collector lose their history, end to end:
/// simulator → collector → hub → HTTP, read by curl.
final class RealtimeHealthTests: XCTestCase {
    private func healthz(_ harness: RealtimeHarness) -> (status: String, body: String) {
        let result = runProcess(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "\(harness.baseURL)/healthz"])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
    }

    func testHealthzIs503NamingNoLiveRoomOnceNoRoomHasBeenLiveForTheTimeout() throws {
        let harness = try RealtimeHarness(rooms: [1]) {
            $0.health = .init(noLiveRoomTimeout: .milliseconds(300))
            $0.alarmCheckInterval = .milliseconds(100)
        }
        defer { harness.close() }
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                harness.collector.statistics().roomsLive == 1
            })
        let healthy = healthz(harness)
        XCTAssertEqual(healthy.status, "200", healthy.body)
        XCTAssertTrue(healthy.body.hasPrefix(#"{"status":"ok","#), healthy.body)
        XCTAssertTrue(healthy.body.hasSuffix(#""problems":[]}"#), healthy.body)
        // The upstream goes away: the room backs off and reconnects in vain.
        harness.simulator.stop()
        var last = healthy
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(50)) {
                last = healthz(harness)
                return last.status == "503"
            }, "\(last)")
        XCTAssertTrue(last.body.hasPrefix(#"{"status":"unhealthy","#), last.body)
        XCTAssertTrue(
            last.body.contains(#""problems":[{"problem":"no_live_room","detail":"none of 1 rooms live for "#), last.body
        )
    }

    func testHealthzStaysOkWithoutRoomsAndWithLiveOnes() throws {
        let harness = try RealtimeHarness {
            $0.health = .init(noLiveRoomTimeout: .zero)
        }
        defer { harness.close() }
        // No room registered: nothing to collect, nothing wrong.
        XCTAssertEqual(healthz(harness).status, "200")
        harness.collector.add(room: 1)
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                harness.collector.statistics().roomsLive == 1
            })
        let live = healthz(harness)
        XCTAssertEqual(live.status, "200", live.body)
    }

    func testARoomRemovedFromTheCollectorLosesItsHistory() throws {
        let harness = try RealtimeHarness(rooms: [1, 2]) { $0.alarmCheckInterval = .milliseconds(100) }
        defer { harness.close() }
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                harness.hub.statistics.roomsInHistory == 2
            }, "\(harness.hub.statistics)")
        // Removed by the library, not over HTTP: the server's periodic check forgets it all the same.
        harness.collector.remove(room: 2)
        let reactor = harness.reactor
        let hub = harness.hub
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                onLoop(reactor) { hub.history.rooms.keys.sorted() } == [1]
            }, "\(harness.hub.statistics)")
        // Room 1 keeps collecting into its ring.
        let held = harness.hub.statistics.eventsInHistory
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                harness.hub.statistics.eventsInHistory > held
            })
        // (An event of room 2 still in flight at the removal may make a ring again; the next check forgets it.)
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                onLoop(reactor) { hub.history.rooms.keys.sorted() } == [1]
            }, "\(harness.hub.statistics)")
    }
}
