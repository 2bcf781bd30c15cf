import TestSupport
import XCTest

/// The `HeadlessChromium` driver itself (the page tests and the http branch's end-to-end test rely on it): a
/// wait that never holds is reported, not thrown; a broken expression is a failure; nothing is left running.
final class PageHeadlessChromiumTests: XCTestCase {
    // A page that counts to 3 on timers, then sets a flag: the wait has something to wait for.
    private let page =
        "data:text/html,<title>t</title><script>let n=0;const t=setInterval(()=>{if(++n===3){clearInterval(t);window.done=true}},100)</script>"

    func testWaitHoldsAndValuesComeBackAsJSON() throws {
        let report = try HeadlessChromium.check(
            url: page, waitFor: "window.done === true", timeout: .seconds(15),
            evaluate: ["n", "document.title", "[1, 'a', null]", "'tab\\tquote\"弹幕'"])
        XCTAssertEqual(report.waitSatisfied, true, report.output)
        XCTAssertGreaterThan(report.waitSeconds ?? 0, 0.2, "three 100 ms timers ran before the flag was set")
        XCTAssertEqual(report.values.prefix(3), ["3", "\"t\"", "[1, \"a\", null]"])
        XCTAssertEqual(report.string(3), "tab\tquote\"弹幕")
        XCTAssertNil(report.string(0), "a number is not a string")
        let profile = try XCTUnwrap(report.profileDirectory, report.output)
        XCTAssertEqual(HeadlessChromium.processes(mentioning: profile), [], "Chromium processes left running")
        XCTAssertNotEqual(access(profile, F_OK), 0, "the profile directory is removed")
    }

    func testWaitThatNeverHoldsIsReportedWithinItsTimeout() throws {
        let report = try HeadlessChromium.check(url: page, waitFor: "window.never === 1", timeout: .seconds(1))
        XCTAssertEqual(report.waitSatisfied, false, report.output)
        let profile = try XCTUnwrap(report.profileDirectory, report.output)
        XCTAssertEqual(HeadlessChromium.processes(mentioning: profile), [])
    }

    func testAnExpressionThatThrowsIsAFailureNamingIt() {
        XCTAssertThrowsError(try HeadlessChromium.check(url: page, evaluate: ["notDefinedAnywhere.x"])) { error in
            XCTAssertTrue("\(error)".contains("notDefinedAnywhere"), "\(error)")
        }
    }

    func testJSONStringDecoding() {
        XCTAssertEqual(HeadlessChromium.decodeJSONString(#""a\nb\"c\\d\/e""#), "a\nb\"c\\d/e")
        XCTAssertEqual(HeadlessChromium.decodeJSONString(#""\u00e9\ud83d\ude00弹""#), "é😀弹")
        XCTAssertNil(HeadlessChromium.decodeJSONString("42"))
        XCTAssertNil(HeadlessChromium.decodeJSONString(#""bad \x escape""#))
    }
}
