@testable import DanmuClient
import DanmuRealtime
import TestSupport
import XCTest

/// The live page in headless Chromium against a stand-in server (`Scripts/page-standin-server.py`) that serves
/// `LivePage.assets`, canned `/rooms` documents from `RoomsDocument` (counters growing poll by poll) and a canned
/// `/events` stream of JSON Lines events from `Fixtures/golden/events.jsonl`. The http branch's end-to-end test
/// runs the page against the real server; this one checks the page alone.
final class PageChromiumTests: XCTestCase {
    private var directory = ""
    private var server: ScriptProcess?

    override func tearDown() {
        server?.stop()
        server = nil
        if !directory.isEmpty { PageFixtures.removeDirectory(directory) }
        super.tearDown()
    }

    /// The golden line of `kind` with its room set to `room`, and `replacements` applied to its text.
    private func goldenLine(_ kind: String, room: Int, _ replacements: [(String, String)] = []) throws -> String {
        let golden = String(decoding: TestFiles.mustRead("Fixtures/golden/events.jsonl"), as: UTF8.self)
        let line = try XCTUnwrap(golden.split(separator: "\n").first { $0.contains("\"kind\":\"\(kind)\"") })
        var text = String(line).replacingOccurrencesOfPrefix("{\"room\":14073662,", with: "{\"room\":\(room),")
        for (old, new) in replacements {
            XCTAssertTrue(text.contains(old), "golden \(kind) line has \(old)")
            text = text.replacing(old, with: new)
        }
        return text
    }

    /// The canned stream of the main test: danmaku, gift and super chat from the golden file, a gap, and a
    /// danmaku whose text is markup.
    private func cannedEvents() throws -> [String] {
        [
            "id: 1\ndata: " + (try goldenLine("danmaku", room: 1)),
            "id: 2\ndata: " + (try goldenLine("gift", room: 3)),
            "id: 3\ndata: " + (try goldenLine("super_chat", room: 1)),
            "event: gap\ndata: {\"type\":\"gap\",\"reason\":\"slow\",\"missed\":12,\"rooms\":[{\"room\":1,\"missed\":9},{\"room\":3,\"missed\":null}]}",
            "event: gap\ndata: {\"note\":\"not the hub's shape\",\"n\":1}",
            "id: 17\ndata: "
                + (try goldenLine(
                    "danmaku", room: 3,
                    [("\"text\":\"......\"", "\"text\":\"zebra <b id=\\\"injected\\\">crossing</b>\"")])),
        ]
    }

    /// Writes the stand-in server's files (`events`: SSE events, without the blank line between them) and starts
    /// it; returns its port.
    /// `laterRooms`, when given, is a fourth `/rooms` document served from the fourth poll on.
    private func startStandIn(events: [String], laterRooms: [RoomStatistics]? = nil) throws -> UInt16 {
        directory = PageFixtures.temporaryDirectory()
        let names = ["/": "index.html", "/app.js": "app.js", "/style.css": "style.css"]
        for (path, asset) in LivePage.assets {
            PageFixtures.write(asset.body, to: directory + "/" + (try XCTUnwrap(names[path], "asset \(path)")))
        }
        // Three polls' worth of counters: room 1 and 3 chosen, room 2 (not chosen) busiest, so the total and
        // selected lines of the chart differ.
        for poll in 0..<3 {
            let statistics = CollectorStatistics(rooms: [
                PageFixtures.room(1, kinds: [.danmaku: 100 + poll * 20], bytes: 4_000),
                PageFixtures.room(
                    2, phase: .backingOff, kinds: [.danmaku: 50 + poll * 80], transport: nil, errors: 1,
                    lastError: .closedByPeer, masked: true),
                PageFixtures.room(3, phase: .connecting, kinds: [.gift: 7 + poll], transport: .wss),
            ])
            let alarms = [RoomAlarm(room: 2, kind: .masked, raisedAt: .zero)]
            // Sampled one second apart, so the page's messages per second are exact.
            let document = RoomsDocument.render(
                statistics, alarms: alarms, sampledAt: 1_700_000_000_000 + Int64(poll) * 1_000)
            PageFixtures.write(document, to: directory + "/rooms-\(poll).json")
        }
        if let laterRooms {
            let document = RoomsDocument.render(CollectorStatistics(rooms: laterRooms), sampledAt: 1_700_000_003_000)
            PageFixtures.write(document, to: directory + "/rooms-3.json")
        }
        PageFixtures.write(Array((events.joined(separator: "\n\n") + "\n\n").utf8), to: directory + "/events.sse")
        let process = try XCTUnwrap(
            ScriptProcess(["python3", TestFiles.resolve("Scripts/page-standin-server.py"), directory]),
            "python3 did not start: run Scripts/ensure-test-deps.sh")
        server = process
        let line = try XCTUnwrap(process.readLine(timeout: .seconds(20)), "the stand-in server printed nothing")
        XCTAssertTrue(line.hasPrefix("listening on 127.0.0.1:"), line)
        return try XCTUnwrap(line.split(separator: ":").last.flatMap { UInt16($0) }, line)
    }

    func testPageShowsFeedRoomsAndChartAndFilterHidesLines() throws {
        let port = try startStandIn(events: try cannedEvents())
        let screenshot = PageFixtures.temporaryRoot + "/danmu-live-page-\(getpid()).png"
        let visibleFeed =
            "Array.from(document.querySelectorAll('#feed > div')).filter(d => !d.hidden).map(d => d.textContent).join('\\n')"
        // Each expression returns a string, a number or a boolean; `values` keeps their order.
        let report = try HeadlessChromium.check(
            url: "http://127.0.0.1:\(port)/?rooms=1,3",
            waitFor:
                "window.danmuPage && danmuPage.feedLines >= 6 && danmuPage.polls >= 3 && danmuPage.chartPoints >= 2",
            timeout: .seconds(15),
            evaluate: [
                visibleFeed,
                "Array.from(document.querySelectorAll('#rooms tr')).map(r => Array.from(r.cells).map(c => c.textContent).join('|')).join('\\n')",
                """
                (() => { const c = document.getElementById('chart'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  const near = (i, hex) => [1, 3, 5].every((k, j) => Math.abs(d[i + j] - parseInt(hex.substr(k, 2), 16)) < 40);
                  let total = 0, selected = 0;
                  for (let i = 0; i < d.length; i += 4) { if (near(i, danmuPage.colors.total)) total++; if (near(i, danmuPage.colors.selected)) selected++; }
                  return total + ',' + selected; })()
                """,
                "document.getElementById('injected') === null && document.querySelectorAll('#feed b, #rooms b').length === 0",
                """
                (() => { const f = document.getElementById('filter'); f.value = 'ZEBRA'; f.dispatchEvent(new Event('input'));
                  return \(visibleFeed); })()
                """,
                """
                (() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'));
                  return document.querySelectorAll('#feed > div:not([hidden])').length; })()
                """,
                "document.getElementById('status').textContent",
                "danmuPage.selected.join(',')",
            ],
            screenshot: screenshot)
        print("live page screenshot: \(screenshot) (feed shown after \(report.waitSeconds ?? -1) s)")
        XCTAssertEqual(report.waitSatisfied, true, "page state never reached: \(report.output)")
        XCTAssertEqual(report.exceptions, [], "uncaught exceptions in the page")
        XCTAssertEqual(report.values.count, 8, report.output)
        guard report.values.count == 8 else { return }
        let feed = (report.string(0) ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(
            feed,
            [
                "[1]孤丶独の观测者: ......", "[3]happy八月 投喂 辣条 ×30", "[1]¥30 界原虚: 猪播完美预测自己第一个死，这就是鹅鸭杀高玩吗",
                "⚠ gap in the stream: 12 event(s) missed (slow: skipped to the newest): room 1: 9, room 3: ?",
                "⚠ gap in the stream: note=\"not the hub's shape\" n=1",
                "[3]孤丶独の观测者: zebra <b id=\"injected\">crossing</b>",
            ])
        // room|state|transport|masked|events|msg/s|alarms|last error; msg/s from the documents' sampledAtMs.
        let rooms = (report.string(1) ?? "").split(separator: "\n").map {
            $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
        XCTAssertEqual(rooms.map { $0.count }, [8, 8, 8], "\(rooms)")
        guard rooms.map({ $0.count }) == [8, 8, 8] else { return }
        XCTAssertEqual(
            rooms.map { Array($0[0..<5]) },
            [
                ["1", "live", "tcp", "–", "140"], ["2", "backing off", "–", "masked", "210"],
                ["3", "connecting", "wss", "–", "9"],
            ])
        XCTAssertEqual(rooms.map { Array($0[6...]) }, [["", ""], ["masked", "closed by the server"], ["", ""]])
        XCTAssertEqual(rooms.map { $0[5] }, ["20.0", "80.0", "1.0"], "messages per second from the counter deltas")
        let pixels = (report.string(2) ?? "").split(separator: ",").compactMap { Int($0) }
        XCTAssertEqual(pixels.count, 2, report.values[2])
        XCTAssertGreaterThan(pixels.first ?? 0, 20, "the total line was drawn on the canvas")
        XCTAssertGreaterThan(pixels.last ?? 0, 20, "the selected rooms' line was drawn on the canvas")
        XCTAssertEqual(report.values[3], "true", "server text became markup")
        XCTAssertEqual(report.string(4), "[3]孤丶独の观测者: zebra <b id=\"injected\">crossing</b>", "the filter ignores case")
        XCTAssertEqual(report.values[5], "6", "clearing the filter shows every line again")
        XCTAssertEqual(report.string(6), "streaming 2 room(s)")
        XCTAssertEqual(report.string(7), "1,3")
        XCTAssertEqual(
            Array(TestFiles.mustRead(screenshot).prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let requests = String(decoding: TestFiles.mustRead(directory + "/requests.log"), as: UTF8.self)
        XCTAssertTrue(requests.contains("/events?rooms=1,3&kinds=danmaku,gift,super_chat\n"), requests)
        XCTAssertTrue(requests.contains("/rooms\n"), requests)
    }

    func testFeedKeepsItsLast500LinesAndRoomsAreChosenByDefaultByTypingAndByClicking() throws {
        let danmaku = try goldenLine("danmaku", room: 2)
        let events = (1...600).map { index in
            "id: \(index)\ndata: " + danmaku.replacing("\"text\":\"......\"", with: "\"text\":\"line \(index)\"")
        }
        // From the fourth poll on, room 3 is gone and room 0 has come: the table follows, in id order.
        let port = try startStandIn(
            events: events,
            laterRooms: [PageFixtures.room(0), PageFixtures.room(1), PageFixtures.room(2, phase: .givenUp)])
        let report = try HeadlessChromium.check(
            url: "http://127.0.0.1:\(port)/",
            waitFor:
                "window.danmuPage && danmuPage.streamOpen && danmuPage.polls >= 4 && document.querySelector('#feed').textContent.includes('line 600')",
            timeout: .seconds(15),
            evaluate: [
                "danmuPage.selected.join(',')",
                "document.querySelectorAll('#feed > div').length",
                "Array.from(document.querySelectorAll('#rooms tr')).map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent).join(',')",
                "document.querySelector('#feed > div').textContent",
                """
                (() => { document.getElementById('room-input').value = '3 2, x';
                  document.getElementById('watch').click(); return danmuPage.selected.join(','); })()
                """,
                """
                (() => { document.querySelector('#rooms tr[data-room="0"]').click(); return danmuPage.selected.join(',') + ' ' +
                  Array.from(document.querySelectorAll('#rooms tr.chosen')).map(r => r.dataset.room).join(','); })()
                """,
            ])
        XCTAssertEqual(report.waitSatisfied, true, "the 600th line never showed: \(report.output)")
        XCTAssertEqual(report.exceptions, [])
        XCTAssertEqual(report.string(0), "1,2,3", "with no room in the URL the page follows every room listed")
        XCTAssertEqual(report.values.count > 1 ? report.values[1] : nil, "500", "the feed is bounded")
        XCTAssertEqual(report.string(2), "0 live,1 live,2 given up", "rows follow the rooms document")
        XCTAssertEqual(report.string(3), "[2]孤丶独の观测者: line 101", "the oldest lines went first")
        XCTAssertEqual(report.string(4), "2,3", "ids typed in the room box, junk ignored")
        XCTAssertEqual(report.string(5), "0,2,3 0,2", "a click on a row adds its room; only listed rooms have rows")
        let requests = String(decoding: TestFiles.mustRead(directory + "/requests.log"), as: UTF8.self)
        XCTAssertTrue(requests.contains("/events?rooms=1,2,3&kinds=danmaku,gift,super_chat\n"), requests)
    }
}

extension String {
    fileprivate func replacingOccurrencesOfPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
