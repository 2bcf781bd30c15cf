import DanmuCluster
import XCTest

final class FairShareTests: XCTestCase {
    func testSharesAddUpToTheRoomCount() {
        let nodes = ["a", "b", "c"]
        for rooms in [0, 1, 2, 3, 299, 300, 301, 3000] {
            let shares = nodes.map { FairShare.target(rooms: rooms, nodes: nodes, node: $0) }
            XCTAssertEqual(shares.reduce(0, +), rooms, "rooms \(rooms)")
            XCTAssertLessThanOrEqual(shares.max()! - shares.min()!, 1, "rooms \(rooms): \(shares)")
        }
    }

    func testRemainderGoesToTheFirstNodesInIdOrder() {
        let nodes = ["c", "a", "b"]
        XCTAssertEqual(FairShare.target(rooms: 5, nodes: nodes, node: "a"), 2)
        XCTAssertEqual(FairShare.target(rooms: 5, nodes: nodes, node: "b"), 2)
        XCTAssertEqual(FairShare.target(rooms: 5, nodes: nodes, node: "c"), 1)
    }

    func testANodeMissingFromTheViewCountsItself() {
        XCTAssertEqual(FairShare.target(rooms: 10, nodes: [], node: "a"), 10)
        XCTAssertEqual(FairShare.target(rooms: 10, nodes: ["b"], node: "a"), 5)
        XCTAssertEqual(FairShare.target(rooms: 10, nodes: ["a", "a", "b"], node: "a"), 5, "duplicates count once")
    }

    func testMaximumCapsTheShare() {
        XCTAssertEqual(FairShare.target(rooms: 300, nodes: ["a"], node: "a", maximum: 120), 120)
        XCTAssertEqual(FairShare.target(rooms: 30, nodes: ["a", "b"], node: "a", maximum: 120), 15)
        XCTAssertEqual(FairShare.target(rooms: 30, nodes: ["a"], node: "a", maximum: 0), 0)
    }
}
