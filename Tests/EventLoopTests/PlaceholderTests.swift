import XCTest
@testable import EventLoop
final class EventLoopPlaceholderTests: XCTestCase { func testModuleLinks() {} }
