import DanmuCluster
import DanmuPipeline
import EventLoop
import TestSupport
import XCTest

/// Redis restarted under a running node (TTL 1.5 s, persistent server: the room set and leases survive).
final class ClusterRedisRestartTests: XCTestCase {
    var redis: RedisTestServer!
    var reactor: Reactor!
    var client: RedisCommandClient!

    override func setUpWithError() throws {
        do {
            redis = try RedisTestServer(persistent: true)
        } catch {
            XCTFail("\(error)")
            throw error
        }
        reactor = try Reactor()
        try reactor.start()
        client = RedisCommandClient(url: try RedisURL(parsing: redis.url), reactor: reactor)
    }

    override func tearDown() {
        client?.close()
        reactor?.shutdown()
        redis?.stop()
    }

    private func startNode(_ host: RecordingHost) throws -> ClusterNode {
        try ClusterRoomSet(client: client).add([1, 2, 3, 4])
        let node = try ClusterNode(
            configuration: .init(nodeID: "node-a", leaseTTL: .milliseconds(1500)), client: client, host: host)
        try node.start()
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current.count == 4 })
        return node
    }

    /// Back within the TTL: the connection is replaced and the next renewal confirms every lease; no room stops.
    func testQuickRestartKeepsEveryRoom() throws {
        let host = RecordingHost()
        let node = try startNode(host)
        defer { node.stop() }
        redis.kill9()
        try redis.start()
        usleep(2_000_000)  // more than the TTL: only renewals after the restart can have kept the rooms
        XCTAssertEqual(host.stopped, [], "no room stopped across a restart shorter than the TTL")
        XCTAssertEqual(host.current.count, 4)
        XCTAssertTrue(try ClusterRoomSet(client: client).owners(of: [1, 2, 3, 4]).values.allSatisfy { $0 == "node-a" })
    }

    /// Down longer than the TTL: every room stops by its last confirmed expiry, then is claimed again once
    /// Redis is back.
    func testLongOutageStopsTheRoomsThenTheyComeBack() throws {
        let host = RecordingHost()
        let node = try startNode(host)
        defer { node.stop() }
        redis.kill9()
        XCTAssertTrue(pollUntil(timeout: .seconds(3), interval: .milliseconds(20)) { host.current.isEmpty })
        XCTAssertEqual(node.status.leasesLost, 4)
        try redis.start()
        XCTAssertTrue(
            pollUntil(timeout: .seconds(6), interval: .milliseconds(50)) { host.current.count == 4 },
            "claimed again after the outage: \(host.current)")
    }
}
