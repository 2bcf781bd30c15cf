import DanmuRealtime
import XCTest

final class RealtimeModuleTests: XCTestCase {
    func testAPIVersionIsPositive() { XCTAssertGreaterThan(DanmuRealtime.apiVersion, 0) }
}
