import DanmuClient
import DanmuCluster
import DanmuPipeline
import EventLoop
import TestSupport
import XCTest

/// Records what a node started and stopped, in place of a collector.
final class RecordingHost: ClusterRoomHost {
    private let rooms = Lock<Set<Int64>>([])
    private let stops = Lock<[Int64]>([])
    var current: Set<Int64> { rooms.withLock { $0 } }
    var stopped: [Int64] { stops.withLock { $0 } }
    func startRooms(_ list: [Int64]) { rooms.withLock { $0.formUnion(list) } }
    func stopRooms(_ list: [Int64]) {
        rooms.withLock { $0.subtract(list) }
        stops.withLock { $0 += list }
    }
}

/// Keeps the rooms of what it was asked to write, in order.
final class RecordingSink: Sink {
    private let written = Lock<[Int64]>([])
    var rooms: [Int64] { written.withLock { $0 } }
    var name: String { "recording" }
    func write(_ batch: [SinkRecord]) throws(PipelineError) { written.withLock { $0 += batch.map(\.room) } }
    func close() {}
}

/// Nodes in this process against a real redis-server (TTL 1.5 s, so a period is 0.5 s).
final class ClusterNodeTests: XCTestCase {
    var redis: RedisTestServer!
    var reactor: Reactor!
    var client: RedisCommandClient!

    override func setUpWithError() throws {
        do {
            redis = try RedisTestServer()
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

    private func makeNode(_ name: String, host: RecordingHost, overlap: Duration = .milliseconds(300)) throws
        -> ClusterNode
    {
        try ClusterNode(
            configuration: .init(nodeID: name, leaseTTL: .milliseconds(1500), handoverOverlap: overlap),
            client: client, host: host)
    }

    private func owners(_ rooms: [Int64]) throws -> [Int64: String?] {
        try ClusterRoomSet(client: client).owners(of: rooms)
    }

    func testTwoNodesSplitTheRoomsAndOneTakesOverOnGracefulStop() throws {
        let rooms = Array(Int64(1)...20)
        try ClusterRoomSet(client: client).add(rooms)
        let hostA = RecordingHost()
        let hostB = RecordingHost()
        let a = try makeNode("node-a", host: hostA)
        let b = try makeNode("node-b", host: hostB)
        try a.start()
        try b.start()
        defer {
            a.stop()
            b.stop()
        }
        let split = pollUntil(timeout: .seconds(10), interval: .milliseconds(50)) {
            hostA.current.count == 10 && hostB.current.count == 10 && hostA.current.isDisjoint(with: hostB.current)
        }
        XCTAssertTrue(split, "A \(hostA.current.sorted()) B \(hostB.current.sorted())")
        let leases = try owners(rooms)
        for room in rooms {
            let expected = hostA.current.contains(room) ? "node-a" : "node-b"
            XCTAssertEqual(leases[room] ?? nil, expected, "room \(room)")
        }
        XCTAssertEqual(a.status.liveNodes, 2)
        XCTAssertEqual(a.status.target, 10)

        let handedOver = hostA.current
        a.stop()
        XCTAssertEqual(hostA.current, [], "a stopped node holds nothing")
        XCTAssertTrue(
            handedOver.isSubset(of: hostB.current), "graceful: B started every room of A before A stopped it")
        XCTAssertEqual(hostB.current.count, 20)
        XCTAssertTrue(try owners(rooms).values.allSatisfy { $0 == "node-b" })
        XCTAssertEqual(a.status.leasesLost, 0)
    }

    /// A node joins two running ones: the shares rebalance by hand-over within two lease periods (plus the
    /// overlap and the newcomer's settling period), every room held by exactly one node throughout the end state.
    func testANodeJoiningGetsItsShareByHandover() throws {
        let rooms = Array(Int64(1)...30)
        try ClusterRoomSet(client: client).add(rooms)
        let hosts = [RecordingHost(), RecordingHost(), RecordingHost()]
        let a = try makeNode("node-a", host: hosts[0])
        let b = try makeNode("node-b", host: hosts[1])
        try a.start()
        try b.start()
        defer {
            a.stop()
            b.stop()
        }
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(50)) {
                hosts[0].current.count == 15 && hosts[1].current.count == 15
            })
        let c = try makeNode("node-c", host: hosts[2])
        try c.start()
        defer { c.stop() }
        // Settling period 0.5 s + hand-over period 0.5 s + claim 0.5 s + overlap 0.3 s, with slack for 2 busy cores.
        let rebalanced = pollUntil(timeout: .seconds(6), interval: .milliseconds(50)) {
            hosts.allSatisfy { $0.current.count == 10 }
        }
        XCTAssertTrue(rebalanced, "\(hosts.map { $0.current.count })")
        let union = hosts.reduce(Set<Int64>()) { $0.union($1.current) }
        XCTAssertEqual(union, Set(rooms))
        let owners = try owners(rooms)
        for (index, name) in ["node-a", "node-b", "node-c"].enumerated() {
            XCTAssertEqual(Set(owners.filter { $0.value == name }.keys), hosts[index].current, name)
        }
    }

    func testALeaseTakenByAnotherValueStopsTheRoomAndTheGateDropsItsEvents() throws {
        try ClusterRoomSet(client: client).add([1, 2, 3])
        let host = RecordingHost()
        let node = try makeNode("node-a", host: host)
        try node.start()
        defer { node.stop() }
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current.count == 3 })
        XCTAssertEqual(node.gate.process([danmaku(room: 2, id: "x")]).count, 1)
        _ = try client.run(["SET", "{danmu}:lease:2", "intruder", "PX", "60000"])
        XCTAssertTrue(
            pollUntil(timeout: .seconds(3), interval: .milliseconds(20)) { !host.current.contains(2) },
            "the next renewal finds the lease another node's")
        XCTAssertFalse(node.holds(2))
        XCTAssertEqual(node.gate.process([danmaku(room: 2, id: "y")]).count, 0)
        XCTAssertEqual(node.gate.droppedEvents, 1)
        XCTAssertEqual(node.status.leasesLost, 1)
    }

    func testRedisGoneStopsEveryRoomWithinTheTTL() throws {
        try ClusterRoomSet(client: client).add([1, 2])
        let host = RecordingHost()
        let node = try makeNode("node-a", host: host)
        try node.start()
        defer { node.stop() }
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current.count == 2 })
        redis.kill9()
        XCTAssertTrue(
            pollUntil(timeout: .seconds(3), interval: .milliseconds(20)) { host.current.isEmpty },
            "no renewal confirmed: every room stops by its last confirmed expiry")
        XCTAssertEqual(node.gate.process([danmaku(room: 1, id: "z")]).count, 0)
    }

    func testRoomSetChangesArePickedUp() throws {
        let set = ClusterRoomSet(client: client)
        try set.add([1])
        let host = RecordingHost()
        let node = try makeNode("node-a", host: host)
        try node.start()
        defer { node.stop() }
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current == [1] })
        try set.add([2, 3])
        try set.remove([1])
        XCTAssertTrue(
            pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current == [2, 3] },
            "\(host.current)")
        XCTAssertEqual(try owners([1])[1] ?? nil, nil, "a removed room's lease is released")
        XCTAssertEqual(try set.list(), [2, 3])
    }

    func testSharedDedupeDropsWhatAnotherNodeAlreadyPassed() throws {
        let first = SharedDedupeStage(client: client)
        let second = SharedDedupeStage(client: client)
        let batch = (1...5).map { danmaku(room: 9, id: "m\($0)") }
        XCTAssertEqual(first.process(batch).count, 5)
        let again = second.process(batch + [danmaku(room: 9, id: "m6")])
        XCTAssertEqual(again.count, 1)
        XCTAssertEqual(second.duplicates, 5)
        redis.kill9()
        XCTAssertEqual(second.process(batch).count, 5, "Redis down: pass (at-least-once), never drop")
        XCTAssertEqual(second.unchecked, 5)
    }

    /// The fence at the sink: a record that passed the gate while the lease was valid, written after the lease
    /// was lost, is dropped (and counted); other rooms' records and records of a later tenure go on.
    func testTheSinkFenceDropsRecordsOfALostLease() throws {
        try ClusterRoomSet(client: client).add([1, 2])
        let host = RecordingHost()
        let node = try makeNode("node-a", host: host)
        let fence = LeaseFence()
        fence.attach(node)
        let inner = RecordingSink()
        let sink = fence.wrap(inner)
        try node.start()
        defer { node.stop() }
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current.count == 2 })
        let before = [record(room: 1), record(room: 2)]
        try sink.write(before)
        XCTAssertEqual(inner.rooms, [1, 2], "held leases: written")
        // Lost: another node's value (as after a pause). The records were read under the lost tenure.
        let queued = [record(room: 1), record(room: 2), record(room: 2)]
        _ = try client.run(["SET", "{danmu}:lease:2", "intruder", "PX", "60000"])
        XCTAssertTrue(pollUntil(timeout: .seconds(3), interval: .milliseconds(20)) { !host.current.contains(2) })
        try sink.write(queued)
        XCTAssertEqual(inner.rooms, [1, 2, 1], "room 2's queued records are fenced")
        XCTAssertEqual(node.fencedRecords, [2: 2])
        // The intruder goes; the node claims room 2 again (a new tenure): its new records are written.
        _ = try client.run(["DEL", "{danmu}:lease:2"])
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current.contains(2) })
        _ = pollUntil(timeout: .milliseconds(50), interval: .milliseconds(10)) { false }
        try sink.write([record(room: 2)])
        XCTAssertEqual(inner.rooms, [1, 2, 1, 2], "a record of the new tenure is written")
    }

    /// Unit half of the SIGKILL gap report: a room whose lease is free but whose mark says someone passed up to
    /// seq 5 is a takeover; the first event after it (seq 9) makes a gap of 3. A room claimed from a hand-over
    /// (`handoff:`) is not a gap, and the dedupe marks the highest seq it passed.
    func testATakeoverFromALostLeaseReportsTheGapAndAHandOverDoesNot() throws {
        try ClusterRoomSet(client: client).add([3, 4])
        _ = try client.run(["SET", "{danmu}:mark:3", "5"])
        _ = try client.run(["SET", "{danmu}:mark:4", "5"])
        _ = try client.run(["SET", "{danmu}:lease:4", "handoff:ghost", "PX", "60000"])
        let host = RecordingHost()
        let node = try makeNode("node-b", host: host)
        let dedupe = SharedDedupeStage(client: client, node: node)
        try node.start()
        defer { node.stop() }
        XCTAssertTrue(pollUntil(timeout: .seconds(5), interval: .milliseconds(50)) { host.current == [3, 4] })
        _ = pollUntil(timeout: .milliseconds(20), interval: .milliseconds(10)) { false }
        for room: Int64 in [3, 4] {
            let batch = [9, 10].map { danmaku(room: room, id: "sim-\(room)-\($0)-1") }
            XCTAssertEqual(dedupe.process(node.gate.process(batch)).count, 2)
        }
        XCTAssertEqual(node.gaps, [ClusterNode.TakeoverGap(room: 3, lastBefore: 5, firstAfter: 9)])
        XCTAssertEqual(node.gaps.first?.missed, 3)
        XCTAssertEqual(Self.text(try client.run(["GET", "{danmu}:mark:3"])), "10")
        XCTAssertEqual(Self.text(try client.run(["GET", "{danmu}:mark:4"])), "10")
    }

    private static func text(_ value: RESPValue) -> String? {
        if case .bulkString(let bytes?) = value { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    private func record(room: Int64) -> SinkRecord {
        SinkRecord(
            room: room, receivedAt: SystemClock.realtimeNanoseconds(), kind: "danmaku", cmd: "DANMU_MSG", json: [])
    }

    private func danmaku(room: Int64, id: String) -> RoomEvent {
        var d = Danmaku()
        d.idStr = id
        d.text = "hi"
        return RoomEvent(room: room, receivedAt: SystemClock.realtimeNanoseconds(), event: .danmaku(d))
    }
}
