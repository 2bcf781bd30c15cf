import Glibc
import XCTest
import DanmuClient
@testable import DanmuSimulator

/// Thousands of rooms on one listener and one send timer. Correctness only (no timing assertions).
final class ScaleTests: XCTestCase {
    func testThousandsOfRoomsEachGetTheirOwnContiguousSequence() throws {
        let rooms = 2_000
        let configuration = Simulator.Configuration(
            rooms: .range(1...Int64(rooms)), ratePerRoom: 4,
            mix: .danmakuOnly)
        try withSimulator(configuration) { simulator, port in
            let clients = try (1...rooms).map { room in
                let client = try TestClient(port: port)
                client.sendAuth(room: Int64(room))
                return client
            }
            // Messages accumulate in every socket in parallel, so the generous per-client timeout only matters
            // on a very slow machine (TSan build on 2 busy cores).
            for (index, client) in clients.enumerated() {
                let room = Int64(index + 1)
                // Decode only the first two (the reference JSON parser is slow in debug builds).
                let seqs = sequenceNumbers(Array(try client.readMessages(2, timeout: 30).prefix(2)), room: room)
                XCTAssertEqual(seqs, [1, 2], "room \(room)")
            }
            let stats = simulator.statistics()
            XCTAssertEqual(stats.authsOK, UInt64(rooms))
            XCTAssertEqual(stats.rooms.count, rooms)
            XCTAssertTrue(stats.rooms.values.allSatisfy { $0.lastSeq >= 2 })
        }
    }
}
