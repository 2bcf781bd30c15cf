import XCTest
@testable import DanmuSimulator
final class DanmuSimulatorPlaceholderTests: XCTestCase { func testModuleLinks() {} }
