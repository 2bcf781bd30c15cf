import DanmuClient
import DanmuCluster
import DanmuPipeline
import EventLoop
import TestSupport
import XCTest

/// DanmuCluster on a real 3-master Redis Cluster, through a URL naming a master that does *not* own the
/// `{danmu}` slot: every command is redirected once, then routed straight to the owner.
final class RedisClusterNodeTests: XCTestCase {
    var cluster: RedisClusterTestServer!
    var reactor: Reactor!
    var client: RedisCommandClient!
    var owner = 0

    override func setUpWithError() throws {
        do {
            cluster = try RedisClusterTestServer()
        } catch {
            XCTFail("\(error)")
            throw error
        }
        owner = try XCTUnwrap(cluster.owner(ofSlot: RedisKeySlot.slot(of: "danmu")))
        reactor = try Reactor()
        try reactor.start()
        client = RedisCommandClient(url: try RedisURL(parsing: cluster.url((owner + 1) % 3)), reactor: reactor)
    }

    override func tearDown() {
        client?.close()
        reactor?.shutdown()
        cluster?.stop()
    }

    func testTwoNodesShareTwentyRoomsOnTheCluster() throws {
        let rooms = Array(Int64(1)...20)
        try ClusterRoomSet(client: client).add(rooms)
        let hosts = [RecordingHost(), RecordingHost()]
        // Each node with its own client, as separate processes would have; both seeded with the non-owner.
        let clients = try (0..<2).map { _ in
            RedisCommandClient(url: try RedisURL(parsing: cluster.url((owner + 1) % 3)), reactor: reactor)
        }
        let nodes = try (0..<2).map { index in
            try ClusterNode(
                configuration: .init(
                    nodeID: "node-\(index)", leaseTTL: .milliseconds(1500), handoverOverlap: .milliseconds(300)),
                client: clients[index], host: hosts[index])
        }
        for node in nodes { try node.start() }
        defer {
            for node in nodes { node.stop() }
            for client in clients { client.close() }
        }
        let split = pollUntil(timeout: .seconds(10), interval: .milliseconds(50)) {
            hosts[0].current.count == 10 && hosts[1].current.count == 10
                && hosts[0].current.isDisjoint(with: hosts[1].current)
        }
        XCTAssertTrue(split, "\(hosts[0].current.sorted()) \(hosts[1].current.sorted())")
        let leases = try ClusterRoomSet(client: client).owners(of: rooms)
        for room in rooms {
            XCTAssertEqual(leases[room] ?? nil, hosts[0].current.contains(room) ? "node-0" : "node-1", "room \(room)")
        }
        XCTAssertEqual(nodes[0].status.liveNodes, 2)
        XCTAssertEqual(clients[0].learntNode(forSlot: RedisKeySlot.slot(of: "danmu"))?.port, cluster.ports[owner])
        // The keys really are on the slot's owner.
        XCTAssertEqual(cluster.cli(owner, ["scard", "{danmu}:rooms"]), "20\n")
    }

    func testSharedDedupeWorksOnTheCluster() throws {
        let other = RedisCommandClient(url: try RedisURL(parsing: cluster.url((owner + 2) % 3)), reactor: reactor)
        defer { other.close() }
        let first = SharedDedupeStage(client: client)
        let second = SharedDedupeStage(client: other)
        let batch = (1...5).map { danmaku(room: 9, id: "m\($0)") }
        XCTAssertEqual(first.process(batch).count, 5)
        XCTAssertEqual(second.process(batch + [danmaku(room: 9, id: "m6")]).count, 1)
        XCTAssertEqual(second.duplicates, 5)
        XCTAssertEqual(second.unchecked, 0, "every check was answered (through the redirection)")
        XCTAssertEqual(first.unchecked, 0)
    }

    /// What docs/cluster.md tells users: the sink does not follow MOVED, so it is given the stream's owner and
    /// one tag for the stream and its token key; an untagged stream is refused (CROSSSLOT), never half-written.
    func testTheSinkWritesATaggedStreamThroughItsOwner() throws {
        let streamOwner = try XCTUnwrap(cluster.owner(ofSlot: RedisKeySlot.slot(of: "out")))
        let records = (1...3).map { n in
            SinkRecord(
                room: 7, receivedAt: Int64(n), kind: "danmaku", cmd: "DANMU_MSG", idStr: "s\(n)",
                json: Array("{\"n\":\(n)}".utf8))
        }
        let sink = RedisSink(
            url: try RedisURL(parsing: cluster.url(streamOwner) + "?stream={out}:danmu"), reactor: reactor,
            replyTimeout: .seconds(5))
        defer { sink.close() }
        try sink.write(records)
        XCTAssertEqual(cluster.cli(streamOwner, ["xlen", "{out}:danmu"]), "3\n")
        let untagged = RedisSink(
            url: try RedisURL(parsing: cluster.url(streamOwner) + "?stream=danmu"), reactor: reactor,
            replyTimeout: .seconds(5))
        defer { untagged.close() }
        XCTAssertThrowsError(try untagged.write(records))
    }

    private func danmaku(room: Int64, id: String) -> RoomEvent {
        var d = Danmaku()
        d.idStr = id
        d.text = "hi"
        return RoomEvent(room: room, receivedAt: SystemClock.realtimeNanoseconds(), event: .danmaku(d))
    }
}
