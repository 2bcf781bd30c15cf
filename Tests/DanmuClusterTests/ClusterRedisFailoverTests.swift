import DanmuPipeline
import EventLoop
import Glibc
import TestSupport
import XCTest

/// The routing on a Redis Cluster with replicas (3 masters + 3 replicas) when the master that owns `{danmu}`
/// is SIGKILLed and its replica is promoted: a client seeded with the dead master's own address follows the
/// slot to the new master (it learnt the other nodes from `CLUSTER SLOTS` when it connected).
final class ClusterRedisFailoverTests: XCTestCase {
    func testAClientSeededWithTheKilledMasterFollowsTheSlotToThePromotedReplica() throws {
        let cluster: RedisClusterTestServer
        do {
            cluster = try RedisClusterTestServer(replicas: 1, nodeTimeoutMilliseconds: 2000)
        } catch {
            XCTFail("\(error)")
            throw error
        }
        defer { cluster.stop() }
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let slot = RedisKeySlot.slot(of: "danmu")
        let owner = try XCTUnwrap(cluster.owner(ofSlot: slot))
        let replica = try XCTUnwrap(cluster.replicas(of: owner).first, "the owner has a replica")
        let client = RedisCommandClient(url: try RedisURL(parsing: cluster.url(owner)), reactor: reactor)
        defer { client.close() }
        XCTAssertEqual(try client.run(["SET", "{danmu}:x", "1"]), .simpleString("OK"))
        XCTAssertEqual(try client.run(["WAIT", "1", "2000"]), .integer(1), "the replica has the write")

        cluster.killNode(owner)
        let killed = SystemClock.monotonicNanoseconds()
        var failures = 0
        let followed = pollUntil(timeout: .seconds(30), interval: .milliseconds(100)) {
            do {
                return try client.run(["SET", "{danmu}:x", "2"]) == .simpleString("OK")
            } catch {
                failures += 1
                return false
            }
        }
        let seconds = Double(SystemClock.monotonicNanoseconds() - killed) / 1e9
        XCTAssertTrue(followed, "no write reached a master within 30 s of the kill (\(failures) failed calls)")
        XCTAssertTrue(cluster.isMaster(replica), "the replica was promoted")
        XCTAssertEqual(client.learntNode(forSlot: slot)?.port, cluster.ports[replica], "the slot map was refreshed")
        XCTAssertEqual(try client.run(["GET", "{danmu}:x"]), .bulkString(Array("2".utf8)))
        XCTAssertEqual(cluster.cli(replica, ["get", "{danmu}:x"]), "2\n", "written on the new master")
        print("failover: writes reached the promoted replica \(seconds) s after the kill (\(failures) calls failed)")
    }
}
