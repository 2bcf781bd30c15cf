import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

final class ScaleMemoryTests: XCTestCase {
    /// The claim (docs/library.md "Memory"): an idle live room costs about 2 KiB of resident memory in the collector (target
    /// ≤ 2 KiB). The server is `danmu-cli simulate --fault stall=0` in ANOTHER process (AUTH_REPLY, then
    /// silence), so what the test process gains is the collector's alone; the simulator's own growth per
    /// connection is read from its /proc/PID/statm, must be > 0 and is printed beside it.
    ///
    /// It measures in a FRESH test-runner process (FreshProcess): after other suites, the rooms reuse freed
    /// pages that are still resident and the growth reads almost nothing (72 bytes per room in a full
    /// `swift test` run, 921 even after malloc_trim). This process only runs that child and reports its result.
    ///
    /// Bound: ≤ 3 KiB per room. Measured on the 2-core build machine in a fresh process: 1,915 to 2,006 bytes
    /// resident per room in six runs (the simulator: 800-900 bytes per connection). 3 KiB leaves ~1 KiB for
    /// allocator and heap noise yet fails when a room gains ~1.2 KiB (shown: a 1,200-byte array added to
    /// RoomSession measured 3,194 and 3,198 bytes and failed).
    func testIdleLiveRoomsStaySmall() throws {
        let marker = "DANMU_SCALE_MEMORY_FRESH_PROCESS"
        guard FreshProcess.isFreshProcess(marker) else {
            let outcome = FreshProcess.run(
                test: "DanmuClientTests.ScaleMemoryTests/testIdleLiveRoomsStaySmall", marker: marker,
                timeout: .seconds(180 * sanitizerSlowdown))
            let figure = outcome.output.split(separator: "\n").first { $0.hasPrefix("idle live room:") }
            print(figure.map(String.init) ?? "idle live room: no figure")
            XCTAssertEqual(outcome.exitStatus, 0, "the measuring process failed:\n\(outcome.output.suffix(4000))")
            XCTAssertNotNil(figure, "no figure from the measuring process:\n\(outcome.output.suffix(4000))")
            return
        }
        let rooms = 4_000
        let server = try SimulatorProcess(["--rooms", "\(1_000 + rooms)", "--fault", "stall=0"])
        defer { server.stop() }

        var configuration = DanmuCollector.Configuration(
            server: .init(host: "127.0.0.1", port: server.port), workers: 1)
        configuration.timing.heartbeatInterval = .seconds(30)
        let collector = try DanmuCollector(configuration: configuration)
        try collector.start()
        defer { collector.shutdown() }

        // Warm up: first rooms pay for lazily grown tables and thread stacks (in both processes).
        collector.add(rooms: 1...200)
        XCTAssertTrue(waitUntil { collector.statistics().roomsLive == 200 })
        let serverBefore = server.residentBytes
        let before = residentBytes()
        collector.add(rooms: 1_001...Int64(1_000 + rooms))
        XCTAssertTrue(
            waitUntil(timeout: .seconds(60)) { collector.statistics().roomsLive == 200 + rooms },
            "live: \(collector.statistics().roomsLive)")
        let after = residentBytes()
        let serverAfter = server.residentBytes
        XCTAssertGreaterThan(before, 0, "cannot read /proc/self/statm")
        XCTAssertGreaterThan(serverBefore, 0, "cannot read the simulator's /proc/\(server.pid)/statm")
        let perRoom = (after - before) / rooms
        let serverPerConnection = (serverAfter - serverBefore) / rooms
        print(
            "idle live room: \(perRoom) bytes resident per room in the collector (server in another process); "
                + "the simulator grew \(serverPerConnection) bytes per connection; \(rooms) rooms")
        XCTAssertEqual(collector.statistics().roomsLive, 200 + rooms, "every room still live at the end")
        XCTAssertGreaterThan(
            perRoom, 1 << 10, "4,000 live rooms cost more than 1 KiB each: else the measurement is off")
        XCTAssertGreaterThan(serverPerConnection, 0, "the simulator's share must be measured, not read as 0")
        // Under ThreadSanitizer its allocator and shadow memory cost ~8 KiB per room (8,039 bytes measured): the
        // claim is checked by the plain build; the sanitizer run only catches a gross regression.
        let bound = sanitizerSlowdown > 1 ? 12 << 10 : 3 << 10
        XCTAssertLessThanOrEqual(perRoom, bound, "idle rooms must stay small (claim ~2 KiB, bound \(bound) bytes)")
    }
}
