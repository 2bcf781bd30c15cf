import DanmuCluster
import XCTest

/// The lease bookkeeping with a fake clock: nanoseconds passed in, no sleeping.
final class LeaseTableTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    func testLeaseIsTrustedFromTheSendTimeNotTheReplyTime() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([7], sentAt: 10 * second)
        XCTAssertTrue(table.isValid(7, now: 10 * second))
        XCTAssertTrue(table.isValid(7, now: 13 * second - 1))
        XCTAssertFalse(table.isValid(7, now: 13 * second), "sentAt + ttl: Redis may expire it from then on")
        XCTAssertFalse(table.isValid(8, now: 10 * second), "a room never claimed is not ours")
    }

    func testMarginShortensTrust() {
        var table = LeaseTable(ttl: 10 * second)
        table.claimed([1], sentAt: 0)
        XCTAssertTrue(table.isValid(1, now: 9 * second - 1))
        XCTAssertFalse(table.isValid(1, now: 9 * second), "a tenth of the TTL by default")
    }

    /// The SIGSTOP case: no renewal for longer than the TTL; on waking the room is past its validity and comes
    /// out as lost, whatever Redis answers later.
    func testPausedNodeFindsItsLeasesExpired() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([1, 2, 3], sentAt: 0)
        _ = table.renewed([(1, 1), (2, 1), (3, 1)], sentAt: 1 * second, now: 1 * second, overlap: 0)
        XCTAssertEqual(table.earliestExpiry, 4 * second)
        // Paused from 1.5 s to 6 s.
        XCTAssertFalse(table.isValid(1, now: 6 * second))
        let expired = table.expire(now: 6 * second)
        XCTAssertEqual(expired.lost, [1, 2, 3])
        XCTAssertEqual(expired.left, [])
        XCTAssertEqual(table.count, 0)
    }

    func testRenewalAnsweredNotOursStopsTheRoomAtOnce() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([1, 2], sentAt: 0)
        let lost = table.renewed([(1, 1), (2, 0)], sentAt: second, now: second, overlap: 0)
        XCTAssertEqual(lost, [2])
        XCTAssertFalse(table.isValid(2, now: second))
        XCTAssertTrue(table.isValid(1, now: 3 * second))
    }

    func testHandoverTakenByAnotherNodeOverlapsThenLeaves() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([5], sentAt: 0)
        table.markedHandoff([5], sentAt: second)
        XCTAssertEqual(table.state(of: 5), .handingOff)
        // Still marked ours: extended, stays handing off.
        XCTAssertEqual(table.renewed([(5, 2)], sentAt: 2 * second, now: 2 * second, overlap: second), [])
        XCTAssertEqual(table.state(of: 5), .handingOff)
        XCTAssertTrue(table.isValid(5, now: 5 * second - 1))
        // Another node claimed it: not lost, leaving for the overlap.
        XCTAssertEqual(table.renewed([(5, 0)], sentAt: 3 * second, now: 3 * second, overlap: second), [])
        XCTAssertEqual(table.state(of: 5), .leaving)
        XCTAssertTrue(table.isValid(5, now: 4 * second - 1), "overlap: the new owner connects meanwhile")
        XCTAssertEqual(table.expire(now: 4 * second), LeaseTable.Expired(lost: [], left: [5]))
    }

    func testTakingBackOwnHandoverMakesItOwnedAgain() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([5], sentAt: 0)
        table.markedHandoff([5], sentAt: 0)
        table.claimed([5], sentAt: second)
        XCTAssertEqual(table.state(of: 5), .owned)
        XCTAssertEqual(table.rooms(in: .owned), [5])
        XCTAssertEqual(table.rooms(in: .handingOff), [])
    }

    func testHandoffOfARoomNotHeldIsIgnored() {
        var table = LeaseTable(ttl: 3 * second)
        table.markedHandoff([9], sentAt: 0)
        XCTAssertEqual(table.count, 0)
        XCTAssertEqual(table.renewed([(9, 1)], sentAt: 0, now: 0, overlap: 0), [])
        XCTAssertEqual(table.count, 0)
    }

    /// A Redis restarted without the key (no persistence, or a failover that lost it): set again, still ours.
    func testRenewalThatSetTheVanishedKeyAgainKeepsTheRoom() {
        var table = LeaseTable(ttl: 3 * second, margin: 0)
        table.claimed([4], sentAt: 0)
        XCTAssertEqual(table.renewed([(4, 3)], sentAt: 2 * second, now: 2 * second, overlap: 0), [])
        XCTAssertEqual(table.state(of: 4), .owned)
        XCTAssertTrue(table.isValid(4, now: 5 * second - 1))
    }
}
