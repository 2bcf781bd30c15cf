import XCTest
@testable import DanmuCodecs
final class DanmuCodecsPlaceholderTests: XCTestCase { func testModuleLinks() {} }
