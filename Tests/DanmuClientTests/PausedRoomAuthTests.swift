import DanmuSimulator
import Glibc
import XCTest

@testable import DanmuClient

/// Issue 17, bug 4: backpressure was recorded as auth failures. Rooms added while the event stream was full were
/// paused before their AUTH_REPLY was read, and the auth timeout then blamed the server (token refresh, doubled
/// backoff). Real sockets, the simulator on its own loop; the stream is requested and never consumed.
final class PausedRoomAuthTests: XCTestCase {
    func testRoomsAddedWhileStreamIsFullAreNotAuthFailures() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...5), ratePerRoom: 2_000, batchSize: 20, mix: danmakuOnly))
        defer { simulator.close() }
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.streamHighWatermark = 100
        configuration.streamLowWatermark = 20
        // Short enough that a paused handshake fails several times within the observation window below.
        configuration.timing.authTimeout = .milliseconds(1_000 * sanitizerSlowdown)
        let collector = try DanmuCollector(configuration: configuration)
        let stream = collector.makeEventStream()  // requested, never read: the stream fills and every socket pauses
        try collector.start()
        defer { collector.shutdown() }
        collector.add(room: 1)
        // Room 1 may first pause on its own queue (slow workers, e.g. under TSan); wait for the stream's pressure.
        let streamFull = waitUntil {
            stream.buffer.isPressured && collector.statistics()[room: 1]?.isReadingPaused == true
        }
        let room1 = String(describing: collector.statistics()[room: 1])
        XCTAssertTrue(streamFull, "stream: \(stream.buffer.count) events; room 1: \(room1)")

        collector.add(rooms: 2...5)
        // Three auth timeouts' worth of time: the old code failed each new room two or three times in it.
        usleep(UInt32(3_000_000 * sanitizerSlowdown))
        let statistics = collector.statistics()
        for room in statistics.rooms {
            XCTAssertEqual(room.authFailures, 0, "room \(room.room): \(room)")
            XCTAssertEqual(room.errors, 0, "room \(room.room): last error \(String(describing: room.lastError))")
            XCTAssertEqual(room.reconnects, 0, "room \(room.room)")
            XCTAssertEqual(room.phase, .live, "room \(room.room)")
            XCTAssertTrue(room.isReadingPaused, "room \(room.room) is live under pressure but not paused")
        }
        XCTAssertEqual(statistics.authFailures, 0)
    }
}
