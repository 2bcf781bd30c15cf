import DanmuCluster
import XCTest

final class ClusterModuleTests: XCTestCase {
    func testKeyLayoutVersionIsPositive() { XCTAssertGreaterThan(DanmuCluster.keyLayoutVersion, 0) }
}
