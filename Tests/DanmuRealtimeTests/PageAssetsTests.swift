import DanmuRealtime
import XCTest

/// What the embedded page promises without a browser: the ids the tests query, no external resource, no
/// `innerHTML`, every referenced asset embedded.
final class PageAssetsTests: XCTestCase {
    private func text(_ path: String) -> String {
        String(decoding: LivePage.assets[path]?.body ?? [], as: UTF8.self)
    }

    func testAssetsAreThePageItsScriptAndItsStyle() {
        XCTAssertEqual(Set(LivePage.assets.keys), ["/", "/app.js", "/style.css"])
        XCTAssertEqual(LivePage.assets["/"]?.body, LivePage.html)
        XCTAssertEqual(LivePage.assets["/"]?.contentType, "text/html; charset=utf-8")
        XCTAssertEqual(LivePage.contentType, "text/html; charset=utf-8")
        XCTAssertEqual(LivePage.assets["/app.js"]?.contentType, "text/javascript; charset=utf-8")
        XCTAssertEqual(LivePage.assets["/style.css"]?.contentType, "text/css; charset=utf-8")
        let html = text("/")
        XCTAssertTrue(html.hasPrefix("<!doctype html>\n"), "no indentation left from the Swift literal")
        XCTAssertTrue(html.contains(#"<script src="/app.js"></script>"#))
        XCTAssertTrue(html.contains(#"<link rel="stylesheet" href="/style.css">"#))
    }

    func testStableElementIdsExist() {
        let html = text("/")
        for id in ["rooms", "feed", "chart", "filter", "status", "room-input", "watch"] {
            XCTAssertTrue(html.contains(#"id="\#(id)""#), "#\(id) missing")
        }
        XCTAssertTrue(html.contains(#"<tbody id="rooms">"#), "#rooms is the table body")
        XCTAssertTrue(html.contains(#"<canvas id="chart""#), "#chart is a canvas")
    }

    func testNothingIsLoadedFromElsewhere() {
        for path in LivePage.assets.keys.sorted() {
            let body = text(path).lowercased()
            for marker in ["http://", "https://", "//cdn", "@import", "url(", "ws://", "wss://"] {
                XCTAssertFalse(body.contains(marker), "\(path) refers to \(marker)")
            }
        }
    }

    func testScriptNeverPutsServerTextIntoMarkup() {
        let script = text("/app.js")
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
            XCTAssertFalse(script.contains(sink), "app.js uses \(sink)")
        }
        XCTAssertTrue(script.contains("textContent"))
        XCTAssertTrue(script.contains("EventSource('/events?rooms=' ") || script.contains("'/events?rooms='"))
        XCTAssertTrue(script.contains("kinds=' + KINDS") && script.contains("'danmaku,gift,super_chat'"))
        XCTAssertTrue(script.contains("addEventListener('gap'"), "gap events are shown")
        XCTAssertTrue(script.contains("FEED_LIMIT = 500"), "the feed is bounded")
    }
}
