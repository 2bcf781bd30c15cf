import XCTest
@testable import DanmuClient
final class DanmuClientPlaceholderTests: XCTestCase { func testModuleLinks() {} }
