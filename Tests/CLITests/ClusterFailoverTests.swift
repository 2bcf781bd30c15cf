import EventLoop
import Glibc
import TestSupport
import XCTest

/// A node of a 3-node cluster (300 rooms, TTL 3 s) dies, stops or pauses while the simulator keeps sending.
final class ClusterFailoverTests: XCTestCase {
    /// Starts the cluster and waits until every room is held; returns the fixture and node 0's rooms.
    private func runningCluster(simulatorSeconds: Int, simulatorArguments: [String] = []) throws -> (
        ClusterFixture, Set<Int64>
    ) {
        let cluster = try ClusterFixture(
            rooms: 300, simulatorSeconds: simulatorSeconds, simulatorArguments: simulatorArguments)
        try cluster.startNodes(3)
        XCTAssertTrue(cluster.wait(seconds: 10) { cluster.everyRoomHeld(by: cluster.nodeIDs) }, "\(cluster.owners())")
        let first = Set(cluster.owners().filter { $0.value == cluster.nodeIDs[0] }.keys)
        XCTAssertFalse(first.isEmpty, "node 0 holds rooms")
        return (cluster, first)
    }

    /// SIGKILL: the dead node's rooms are live on the others within TTL + 5 s. What the simulator sent to the
    /// dead node's sockets is a gap (counted and printed); everything is still at most once, and every room of
    /// the dead node ends with the simulator's last message. The node hangs (SIGSTOP) for 1.5 s before it is
    /// killed, so its sockets hold messages it never read: the simulator pauses a room that has no connection
    /// (a message is made when a connection takes it), so a clean kill alone leaves next to no gap to count.
    func testKilledNodesRoomsMoveToTheOthersWithinTTLPlusFive() throws {
        let (cluster, victims) = try runningCluster(simulatorSeconds: 16)
        cluster.nodes[0].send(SIGSTOP)
        _ = cluster.wait(seconds: 1.5) { false }
        cluster.nodes[0].send(SIGKILL)
        let killedAt = cluster.monotonicSeconds()
        let survivors = Array(cluster.nodeIDs.dropFirst())
        let movedIn = cluster.wait(seconds: ClusterFixture.ttl + 5) { cluster.everyRoomHeld(by: survivors) }
        XCTAssertTrue(
            movedIn,
            "rooms not taken over within TTL + 5 s: \(cluster.owners().filter { !survivors.contains($0.value) })")
        let tookOver = cluster.monotonicSeconds() - killedAt
        XCTAssertGreaterThan(tookOver, 0)

        let sent = cluster.finishSimulator()
        let expected = sent.values.reduce(0, +)
        let entries = cluster.settledStream(expected: expected)
        let byRoom = sequencesByRoom(entries)
        var gap = 0
        for (room, count) in sent {
            let seqs = byRoom[room] ?? []
            XCTAssertEqual(Set(seqs).count, seqs.count, "room \(room): a duplicate")
            XCTAssertEqual(seqs, seqs.sorted(), "room \(room): out of order")
            if victims.contains(room) {
                XCTAssertEqual(seqs.last, count, "room \(room) lives on to the simulator's last message")
                gap += count - seqs.count
            } else {
                XCTAssertEqual(seqs, count > 0 ? Array(1...count) : [], "room \(room) of a surviving node")
            }
        }
        print("SIGKILL: \(victims.count) rooms moved in \(tookOver) s; gap \(gap) danmaku sent to the dead node")

        // The survivors name the rooms they took over with a gap and count what is missing (counted, not
        // hidden): per room exactly what the stream misses, unless the dead node passed the dedupe for events
        // its sink had not written yet when it died (then the report is lower by those: never higher).
        var reported: [Int64: Int] = [:]
        var logged = false
        for node in cluster.nodes.dropFirst() {
            node.send(SIGTERM)
            XCTAssertEqual(node.finish(seconds: 20), .exited(0), node.stderrText)
            logged = logged || node.stderrText.contains("from a lost lease with a gap")
            let summary = summaryObject(node.stderrText)?["cluster"] as? [String: Any]
            let gaps = try XCTUnwrap(summary?["gaps"] as? [String: Any], node.stderrText.suffix(800).description)
            XCTAssertEqual(intValue(summary?["gap_rooms"]), gaps.count)
            for (room, missed) in gaps {
                reported[Int64(room) ?? -1, default: 0] += intValue(missed) ?? -1
            }
        }
        var actual: [Int64: Int] = [:]
        for room in victims {
            let missing = (sent[room] ?? 0) - (byRoom[room] ?? []).count
            if missing > 0 { actual[room] = missing }
        }
        XCTAssertTrue(Set(reported.keys).isSubset(of: victims), "gaps reported for rooms the dead node did not hold")
        for (room, missed) in reported {
            XCTAssertGreaterThan(missed, 0, "room \(room)")
            XCTAssertLessThanOrEqual(missed, actual[room] ?? 0, "room \(room): reported more than the stream misses")
        }
        let exact = actual.filter { reported[$0.key] == $0.value }.count
        XCTAssertGreaterThanOrEqual(
            exact * 10, actual.count * 9, "most gaps counted exactly: reported \(reported), stream \(actual)")
        XCTAssertEqual(actual.isEmpty, reported.isEmpty)
        XCTAssertTrue(reported.isEmpty || logged, "the gap is logged on stderr")
        print(
            "SIGKILL: \(reported.count) rooms reported with a gap of \(reported.values.reduce(0, +)); the stream "
                + "misses \(actual.values.reduce(0, +)) in \(actual.count) rooms (\(exact) counted exactly)")
    }

    /// SIGTERM: the node hands its rooms over (the takers start them before it stops them): nothing lost and
    /// nothing duplicated. The simulator broadcasts here (`--delivery every`), as the live servers do: during the
    /// overlap both nodes' connections receive every message of the room, so what the old owner misses at its
    /// close the new one already has, and the shared dedupe keeps one copy. (With `--delivery one` each message
    /// went to one connection, and one written to the old owner's socket just before its close was lost.)
    /// During the overlap two nodes write the room, so its entries may be out of order there: compared as sets.
    func testTerminatedNodeHandsOverWithNothingLostOrDuplicated() throws {
        let (cluster, victims) = try runningCluster(simulatorSeconds: 16, simulatorArguments: ["--delivery", "every"])
        cluster.nodes[0].send(SIGTERM)
        XCTAssertEqual(cluster.nodes[0].finish(seconds: 20), .exited(0), cluster.nodes[0].stderrText)
        let survivors = Array(cluster.nodeIDs.dropFirst())
        XCTAssertTrue(cluster.everyRoomHeld(by: survivors), "after exit every room is another node's")
        let summary = summaryObject(cluster.nodes[0].stderrText)?["cluster"] as? [String: Any]
        XCTAssertEqual(intValue(summary?["leases_lost"]), 0, cluster.nodes[0].stderrText)
        // Redis was up the whole time: every event the leaving node still decoded went through the shared dedupe
        // (a batch passed unchecked is how a hand-over duplicated a message).
        XCTAssertEqual(intValue(summary?["dedupe_unchecked"]), 0, cluster.nodes[0].stderrText)

        let sent = cluster.finishSimulator()
        let expected = sent.values.reduce(0, +)
        let entries = cluster.settledStream(expected: expected)
        let byRoom = sequencesByRoom(entries)
        var lost: [Int64: [Int]] = [:]
        for (room, count) in sent {
            let seqs = byRoom[room] ?? []
            XCTAssertEqual(Set(seqs).count, seqs.count, "room \(room): a duplicate")
            if victims.contains(room) {
                let missing = Set(1...max(1, count)).subtracting(seqs).filter { $0 <= count }
                if !missing.isEmpty { lost[room] = missing.sorted() }
                XCTAssertTrue(Set(seqs).isSubset(of: Set(1...max(1, count))), "room \(room): \(seqs)")
            } else {
                XCTAssertEqual(seqs, count > 0 ? Array(1...count) : [], "room \(room) (not handed over)")
            }
        }
        XCTAssertEqual(lost, [:], "lost in the hand-over of \(victims.count) rooms (room: seqs)")
        print("SIGTERM: \(victims.count) rooms handed over; \(lost.values.map(\.count).reduce(0, +)) danmaku lost")
    }

    /// SIGSTOP past the TTL, then SIGCONT: the paused node finds its leases expired and writes nothing more for
    /// those rooms. The simulator's danmaku sent to its sockets after the pause began (and before anyone else
    /// could hold the rooms) are exactly what must not appear: they were buffered while it slept.
    func testPausedNodeStopsItsRoomsBeforeWritingMore() throws {
        let (cluster, victims) = try runningCluster(simulatorSeconds: 18)
        // Let a renewal happen, so the last one before the pause is at most a period old.
        _ = cluster.wait(seconds: 1.2) { false }
        cluster.nodes[0].send(SIGSTOP)
        let stoppedAt = SystemClock.monotonicNanoseconds()
        let survivors = Array(cluster.nodeIDs.dropFirst())
        XCTAssertTrue(
            cluster.wait(seconds: ClusterFixture.ttl + 5) { cluster.everyRoomHeld(by: survivors) }, "takeover")
        cluster.nodes[0].send(SIGCONT)
        // Awake, it registers again and gets its share back by hand-over from the others (rebalance on join).
        let rebalanced = cluster.wait(seconds: 10) {
            let owners = cluster.owners()
            return owners.count == 300 && owners.values.allSatisfy { cluster.nodeIDs.contains($0) }
                && owners.values.filter { $0 == cluster.nodeIDs[0] }.count == 100
        }
        XCTAssertTrue(rebalanced, "\(Dictionary(grouping: cluster.owners().values) { $0 }.mapValues(\.count))")

        let sent = cluster.finishSimulator()
        let expected = sent.values.reduce(0, +)
        let entries = cluster.settledStream(expected: expected)
        // The window in which only the paused node's sockets received the room's messages: from just after the
        // pause to the earliest moment another node could hold the room (last renewal ≥ pause - 1 period, so the
        // lease lasts until ≥ pause + TTL - period = pause + 2 s).
        let windowStart = stoppedAt + 300_000_000
        let windowEnd = stoppedAt + 1_800_000_000
        let written = entries.filter { victims.contains($0.room) && $0.sentAt >= windowStart && $0.sentAt < windowEnd }
        XCTAssertEqual(written.count, 0, "the paused node wrote \(written.count) danmaku received while it slept")
        let byRoom = sequencesByRoom(entries)
        for (room, _) in sent {
            let seqs = byRoom[room] ?? []
            XCTAssertEqual(Set(seqs).count, seqs.count, "room \(room): a duplicate")
        }
        cluster.nodes[0].send(SIGTERM)
        XCTAssertEqual(cluster.nodes[0].finish(seconds: 20), .exited(0))
        let summary = summaryObject(cluster.nodes[0].stderrText)?["cluster"] as? [String: Any]
        XCTAssertGreaterThanOrEqual(
            intValue(summary?["leases_lost"]) ?? 0, victims.count, cluster.nodes[0].stderrText.suffix(1500).description)
        print("SIGSTOP: gate dropped \(intValue(summary?["gate_dropped"]) ?? -1) events of the paused node")
    }

    /// The fence at the sink: batches that passed the lease gate while the lease was valid but wait in the sink
    /// runner's queue (the sink's Redis is stalled with SIGSTOP) when the node is paused past its TTL must not
    /// be written once the sink can write again: the other nodes hold those rooms by then. The paused node's
    /// summary counts what its fence dropped.
    func testBatchesQueuedBeforeAPauseAreNotWrittenAfterTheLeaseIsLost() throws {
        let cluster = try ClusterFixture(rooms: 300, simulatorSeconds: 24, separateSink: true)
        try cluster.startNodes(3)
        XCTAssertTrue(cluster.wait(seconds: 10) { cluster.everyRoomHeld(by: cluster.nodeIDs) }, "\(cluster.owners())")
        let victims = Set(cluster.owners().filter { $0.value == cluster.nodeIDs[0] }.keys)
        XCTAssertFalse(victims.isEmpty)
        _ = cluster.wait(seconds: 1) { false }
        // The sink stalls: every node's records wait in its sink runner (the write in flight times out later).
        kill(cluster.sinkRedis.pid, SIGSTOP)
        let stalledAt = SystemClock.monotonicNanoseconds()
        _ = cluster.wait(seconds: 2) { false }
        cluster.nodes[0].send(SIGSTOP)
        let pausedAt = SystemClock.monotonicNanoseconds()
        let survivors = Array(cluster.nodeIDs.dropFirst())
        XCTAssertTrue(
            cluster.wait(seconds: ClusterFixture.ttl + 5) { cluster.everyRoomHeld(by: survivors) }, "takeover")
        cluster.nodes[0].send(SIGCONT)
        // Awake: the writer's next attempt (after its stalled write times out) goes through the fence.
        _ = cluster.wait(seconds: 12) { false }
        kill(cluster.sinkRedis.pid, SIGCONT)

        let sent = cluster.finishSimulator()
        let entries = cluster.settledStream(expected: sent.values.reduce(0, +))
        // From a second after the stall (the batch the writer sent to the stalled server right after it is in
        // that server's socket and is applied on resume: sent while the lease was valid, which the fence does
        // not undo; under ThreadSanitizer that batch took records up to ~0.5 s after the stall) to the earliest
        // moment another node could hold the rooms: only the paused node had these, and its lease was lost
        // before its sink could write them.
        let windowStart = stalledAt + 1_000_000_000
        let windowEnd = pausedAt + 1_800_000_000
        let late = entries.filter { victims.contains($0.room) && $0.sentAt >= windowStart && $0.sentAt < windowEnd }
        XCTAssertEqual(late.count, 0, "the paused node's sink wrote \(late.count) danmaku of leases it had lost")
        // No duplicate check here: the batch stuck in the stalled server's socket is applied on resume while
        // the sink's retry (on a new connection) may already have asked for the batch token and written it
        // again (RedisSink's in-doubt check races a stalled server: seen once under ThreadSanitizer).
        cluster.nodes[0].send(SIGTERM)
        XCTAssertEqual(cluster.nodes[0].finish(seconds: 30), .exited(0), cluster.nodes[0].stderrText)
        let summary = summaryObject(cluster.nodes[0].stderrText)?["cluster"] as? [String: Any]
        let fenced = intValue(summary?["fenced"]) ?? 0
        XCTAssertGreaterThan(fenced, 0, cluster.nodes[0].stderrText.suffix(1500).description)
        let fencedRooms = (summary?["fenced_rooms"] as? [String: Any]).map { Set($0.keys.compactMap { Int64($0) }) }
        XCTAssertTrue(fencedRooms?.isSubset(of: victims) ?? false, "fenced only the rooms it lost")
        print("fence: the paused node dropped \(fenced) records at its sink (\(fencedRooms?.count ?? 0) rooms)")
    }
}
