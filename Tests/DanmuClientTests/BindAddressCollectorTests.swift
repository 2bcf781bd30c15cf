import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// `Configuration.bindAddresses`: each room's socket is bound to `bindAddresses[room mod count]`.
final class BindAddressCollectorTests: XCTestCase {
    func testTwentyRoomsSplitBetweenTwoSourceAddressesByRoomID() throws {
        let simulator = try SimulatorHarness(.init(rooms: .range(1...20), ratePerRoom: 5, mix: danmakuOnly))
        defer { simulator.close() }
        let sources = [try SocketAddress(ipv4: "127.0.0.2", port: 0), try SocketAddress(ipv4: "127.0.0.3", port: 0)]
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.bindAddresses = sources
        let collector = try DanmuCollector(configuration: configuration)
        defer { collector.shutdown() }
        try collector.start()
        collector.add(rooms: 1...20)
        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) { collector.statistics().roomsLive == 20 },
            "rooms not live: \(collector.statistics().rooms.filter { $0.phase != .live })")

        // The rule: room id modulo the number of addresses, so even rooms on 127.0.0.2, odd ones on 127.0.0.3.
        for room in collector.statistics().rooms {
            let expected = sources[Int(room.room % 2)]
            XCTAssertEqual(room.localAddress, expected, "room \(room.room)")
            XCTAssertEqual(configuration.bindAddress(forRoom: room.room), expected)
            XCTAssertEqual(room.errors, 0, "room \(room.room): \(String(describing: room.lastError))")
        }
        // What the simulator accepted, seen from its side: the kernel's table of established TCP sockets whose
        // local port is the simulator's, grouped by the peer (remote) address.
        let peers = establishedPeers(ofLocalPort: simulator.address.port)
        XCTAssertEqual(peers[sources[0].ipv4], 10, "peers by address: \(peers)")
        XCTAssertEqual(peers[sources[1].ipv4], 10, "peers by address: \(peers)")
        XCTAssertEqual(peers.values.reduce(0, +), 20, "peers by address: \(peers)")
    }

    func testAddressNotOnThisHostFailsOnlyItsRoomsWithACountedError() throws {
        let simulator = try SimulatorHarness(.init(rooms: .range(1...4), ratePerRoom: 5, mix: danmakuOnly))
        defer { simulator.close() }
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no host: bind(2) refuses it before any packet is sent.
        let absent = try SocketAddress(ipv4: "192.0.2.1", port: 0)
        var configuration = testCollectorConfiguration(server: simulator.server)
        configuration.bindAddresses = [try SocketAddress(ipv4: "127.0.0.2", port: 0), absent]
        let collector = try DanmuCollector(configuration: configuration)
        defer { collector.shutdown() }
        try collector.start()
        collector.add(rooms: 1...4)
        // Rooms 1 and 3 are on the absent address and keep failing (and retrying); 2 and 4 go live.
        XCTAssertTrue(
            waitUntil(timeout: .seconds(30)) {
                let statistics = collector.statistics()
                return statistics[room: 2]?.phase == .live && statistics[room: 4]?.phase == .live
                    && (statistics[room: 1]?.errors ?? 0) >= 2 && (statistics[room: 3]?.errors ?? 0) >= 2
            }, "\(collector.statistics().rooms)")
        let statistics = collector.statistics()
        for room: Int64 in [1, 3] {
            let failed = try XCTUnwrap(statistics[room: room])
            XCTAssertNotEqual(failed.phase, .live)
            XCTAssertEqual(failed.connections, 0)
            XCTAssertEqual(failed.localAddress, absent)
            guard case .connectFailed(let why) = failed.lastError else {
                return XCTFail("room \(room): \(String(describing: failed.lastError))")
            }
            XCTAssertTrue(why.contains("bind(192.0.2.1:0)"), why)
            XCTAssertTrue(why.contains("EADDRNOTAVAIL"), why)
        }
        for room: Int64 in [2, 4] { XCTAssertEqual(statistics[room: room]?.errors, 0) }
    }

    /// Counts the ESTABLISHED IPv4 sockets in /proc/net/tcp whose local port is `port`, by remote address.
    private func establishedPeers(ofLocalPort port: UInt16) -> [UInt32: Int] {
        guard let file = fopen("/proc/net/tcp", "r") else {
            XCTFail("cannot open /proc/net/tcp: errno \(errno)")
            return [:]
        }
        defer { fclose(file) }
        var counts: [UInt32: Int] = [:]
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // "  12: 0100007F:1F90 0200007F:A1B2 01 …": addresses are the raw network-order word in hex.
            let fields = String(cString: line).split(separator: " ")
            guard fields.count > 3, fields[3] == "01" else { continue }
            let local = fields[1].split(separator: ":")
            let remote = fields[2].split(separator: ":")
            guard local.count == 2, remote.count == 2, UInt16(local[1], radix: 16) == port,
                let raw = UInt32(remote[0], radix: 16)
            else { continue }
            counts[UInt32(bigEndian: raw), default: 0] += 1
        }
        return counts
    }
}
