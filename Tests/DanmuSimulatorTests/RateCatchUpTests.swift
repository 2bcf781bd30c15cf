import DanmuClient
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuSimulator

/// A rate-mode tick that comes late (the loop was starved) pays what is due in slices of
/// `maxMessagesPerVisit`, one per visit, and carries the rest: a loop turn stays short however late it is,
/// and no message is lost or added. Each test drives the wheel's visit directly on the loop with a `now` one
/// second past the entry's due time, so the lateness is exact and no real tick interleaves.
///
/// The incident: on 2 cores at load ~7 each late tick generated everything due in one turn, which made the next
/// tick later still; a turn of 4.3 s wrote ~145 messages to each of 20 wss rooms in turn, answered no heartbeat
/// meanwhile, and the collector's 4 s watchdog closed the rooms served last (their next messages were written
/// to the dead connection and lost: "rooms got 1…33 then 180…200").
final class RateCatchUpTests: XCTestCase {
    private static let rate = 400.0
    private static let late = UInt64(1_000_000_000)

    /// A started `SimulatorCore` (not the `Simulator` facade: the test calls its loop-only methods) with one
    /// raw client authenticated for room 1 and served; stops both afterwards and checks the fds are closed.
    private func withServedRoom(
        delivery: Delivery, _ body: (Reactor, SimulatorCore) throws -> Void
    ) throws {
        let baseline = openFileDescriptors().count
        try {
            var configuration = Simulator.Configuration(
                rooms: .range(1...1), ratePerRoom: Self.rate, batchSize: 5, mix: .danmakuOnly)
            configuration.delivery = delivery
            let reactor = try Reactor()
            try reactor.start()
            defer { reactor.shutdown() }
            let core = SimulatorCore(reactor: reactor, configuration: configuration, store: StatisticsStore())
            let started = try XCTUnwrap(reactor.executeAndWait { core.start() })
            defer { _ = reactor.executeAndWait { core.stop() } }
            let client = try TestClient(port: try started.get().tcp.port)
            client.sendAuth(room: 1)
            XCTAssertGreaterThanOrEqual(try client.readMessages(4).count, 4, "the room is served on time")
            try body(reactor, core)
        }()
        XCTAssertEqual(openFileDescriptors().count, baseline, "fds back to baseline")
    }

    /// The per-connection sender (`Delivery.oneConnection`).
    func testALateTickWritesOneSliceAndCarriesTheRest() throws {
        try withServedRoom(delivery: .oneConnection) { reactor, core in
            let result = try XCTUnwrap(
                reactor.executeAndWait { () -> (slices: [UInt64], owed: UInt64) in
                    let client = core.connections.values.first { $0.isSending }!
                    let now = client.nextDue &+ Self.late
                    let owed = (now - client.nextDue) / core.intervalNanoseconds + 1
                    var slices: [UInt64] = []
                    while client.nextDue <= now, slices.count < 1000 {
                        let before = core.rooms[1]!.stream.messagesSent
                        _ = core.serveRate(client, now: now)
                        slices.append(core.rooms[1]!.stream.messagesSent - before)
                    }
                    return (slices, owed)
                })
            check(result.slices, owed: result.owed)
        }
    }

    /// The room's emitter of `Delivery.everyConnection`.
    func testALateBroadcastTickEmitsOneSliceAndCarriesTheRest() throws {
        try withServedRoom(delivery: .everyConnection) { reactor, core in
            let result = try XCTUnwrap(
                reactor.executeAndWait { () -> (slices: [UInt64], owed: UInt64) in
                    let now = core.rooms[1]!.nextDue &+ Self.late
                    let owed = (now - core.rooms[1]!.nextDue) / core.intervalNanoseconds + 1
                    var slices: [UInt64] = []
                    while core.rooms[1]!.nextDue <= now, slices.count < 1000 {
                        let before = core.rooms[1]!.stream.messagesSent
                        _ = core.serveRoom(1, now: now)
                        slices.append(core.rooms[1]!.stream.messagesSent - before)
                    }
                    return (slices, owed)
                })
            check(result.slices, owed: result.owed)
        }
    }

    /// Every visit wrote a full slice (the last one the remainder), and together they paid exactly what was due.
    private func check(_ slices: [UInt64], owed: UInt64, line: UInt = #line) {
        // 400 msg/s and 5 ms ticks: 2 messages a tick, so a slice is eight ticks' worth, 16 (more than a batch).
        let cap = 16
        XCTAssertEqual(owed, 401, "one second late at 400 msg/s", line: line)
        XCTAssertEqual(slices.first, UInt64(cap), "the first late visit writes one slice, not all \(owed)", line: line)
        XCTAssertTrue(slices.allSatisfy { $0 <= UInt64(cap) }, "\(slices)", line: line)
        XCTAssertEqual(slices.count, (Int(owed) + cap - 1) / cap, "\(slices)", line: line)
        XCTAssertEqual(slices.reduce(0, +), owed, "nothing lost, nothing added", line: line)
    }
}
