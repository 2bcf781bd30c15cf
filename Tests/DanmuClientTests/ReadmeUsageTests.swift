import DanmuSimulator
import XCTest

// README-BEGIN (the library usage example of README.md; keep the two identical)
import DanmuClient
import Glibc

/// Prints the danmaku and gifts of `rooms` for `seconds`, then stops and returns the counters.
@discardableResult
func printLiveChat(rooms: [Int64], seconds: UInt32, server: ServerAddress? = nil) throws
    -> CollectorStatistics
{
    // With a fixed server (e.g. the simulator) rooms connect there; without one, each room's token and
    // servers come from Bilibili's HTTP API (RoomResolver, via curl, on a thread of its own).
    let collector = try DanmuCollector(configuration: .init(server: server))
    collector.setHandler(
        DanmuHandlers(
            danmaku: { room, danmaku in print("[\(room)] \(danmaku.uname): \(danmaku.text)") },
            gift: { room, gift in print("[\(room)] \(gift.uname) sent \(gift.giftName) ×\(gift.num)") }))
    try collector.start()
    collector.add(rooms: rooms)  // from any thread, at any time; remove(room:) likewise
    sleep(seconds)
    let statistics = collector.statistics()
    print("\(statistics.roomsLive) rooms live, \(statistics.events) events, \(statistics.reconnects) reconnects")
    collector.shutdown()  // stops reading, delivers everything received, closes the sockets
    return statistics
}
// README-END

/// Runs the README's example against the simulator, so the example compiles and works.
final class ReadmeUsageTests: XCTestCase {
    func testReadmeExampleRunsAgainstTheSimulator() throws {
        let simulator = try SimulatorHarness(
            .init(rooms: .range(1...3), ratePerRoom: 8, mix: MessageMix(weights: [.danmaku: 3, .sendGift: 1])))
        defer { simulator.close() }
        let statistics = try printLiveChat(rooms: [1, 2, 3], seconds: 1, server: simulator.server)
        XCTAssertEqual(statistics.roomsLive, 3)
        XCTAssertGreaterThan(statistics.rooms.reduce(0) { $0 + ($1.eventsByKind[.danmaku] ?? 0) }, 0)
        XCTAssertGreaterThan(statistics.rooms.reduce(0) { $0 + ($1.eventsByKind[.gift] ?? 0) }, 0)
        XCTAssertEqual(statistics.errors, 0)
    }
}
