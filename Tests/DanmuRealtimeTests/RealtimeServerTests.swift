import DanmuClient
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// The realtime server end to end: simulator → collector → hub → HTTP, read by curl, Python urllib/http.client
/// and the `websockets` client.
final class RealtimeServerTests: XCTestCase {
    /// Waits until every room of the collector is live.
    private func waitLive(_ harness: RealtimeHarness, rooms: Int) {
        XCTAssertTrue(
            pollUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
                harness.collector.statistics().roomsLive == rooms
            }, "rooms did not go live: \(harness.collector.statistics().rooms.map(\.phase))")
    }

    func testHealthzRoomsAndMetricsAnswerWithValidDocuments() throws {
        let harness = try RealtimeHarness(rooms: [1, 2])
        defer { harness.close() }
        waitLive(harness, rooms: 2)
        let output = python(
            """
            import json, re, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            base = sys.argv[1]
            r = urllib.request.urlopen(base + '/healthz', timeout=10)
            health = json.loads(r.read())
            print('healthz', r.status, r.headers['Content-Type'], health['status'], health['rooms'], health['rooms_live'])
            r = urllib.request.urlopen(base + '/rooms', timeout=10)
            rooms = json.loads(r.read())
            print('rooms', r.status, sorted(room['id'] if 'id' in room else room['room'] for room in rooms['rooms']))
            r = urllib.request.urlopen(base + '/metrics', timeout=10)
            text = r.read().decode()
            print('metrics', r.status, r.headers['Content-Type'])
            # Strict line grammar of the 0.0.4 text format, then the reference parser.
            sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\\\\n]|\\\\["\\\\n])*",?)*\\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*\\})? (NaN|\\+Inf|-Inf)$')
            for line in text.splitlines():
                if line.startswith('# HELP ') or line.startswith('# TYPE '):
                    continue
                assert sample.match(line), 'bad line: %r' % line
            assert text.endswith('\\n')
            names = {f.name for f in text_string_to_metric_families(text)}
            print('families-ok', len(names) > 10, 'danmu_events' in names)
            """, [harness.baseURL])
        XCTAssertTrue(output.contains("healthz 200 application/json ok 2 2"), output)
        XCTAssertTrue(output.contains("rooms 200 [1, 2]"), output)
        XCTAssertTrue(output.contains("metrics 200 text/plain; version=0.0.4"), output)
        XCTAssertTrue(output.contains("families-ok True True"), output)
    }

    func testRoomControlIsRefusedWithoutATokenConfigured() throws {
        let harness = try RealtimeHarness()
        defer { harness.close() }
        let post = runProcess(["curl", "-sS", "-i", "-X", "POST", "\(harness.baseURL)/rooms/5"])
        XCTAssertTrue(post.output.hasPrefix("HTTP/1.1 403 Forbidden"), post.output)
        XCTAssertTrue(post.output.contains("no token configured"), post.output)
        XCTAssertEqual(harness.collector.rooms, [])
    }

    func testRoomControlNeedsTheRightBearerToken() throws {
        let harness = try RealtimeHarness { $0.token = "s3cret-token" }
        defer { harness.close() }
        let url = "\(harness.baseURL)/rooms/42"
        let missing = runProcess(["curl", "-sS", "-i", "-X", "POST", url])
        XCTAssertTrue(missing.output.hasPrefix("HTTP/1.1 401 Unauthorized"), missing.output)
        let wrong = runProcess(["curl", "-sS", "-i", "-X", "POST", "-H", "Authorization: Bearer s3cret-tokeN", url])
        XCTAssertTrue(wrong.output.hasPrefix("HTTP/1.1 401 Unauthorized"), wrong.output)
        let prefix = runProcess(["curl", "-sS", "-i", "-X", "POST", "-H", "Authorization: Bearer s3cret", url])
        XCTAssertTrue(prefix.output.hasPrefix("HTTP/1.1 401 Unauthorized"), prefix.output)
        XCTAssertEqual(harness.collector.rooms, [])
        let right = runProcess(["curl", "-sS", "-i", "-X", "POST", "-H", "Authorization: Bearer s3cret-token", url])
        XCTAssertTrue(right.output.hasPrefix("HTTP/1.1 201 Created"), right.output)
        XCTAssertTrue(right.output.hasSuffix(#"{"room":42,"added":true}"#), right.output)
        XCTAssertEqual(harness.collector.rooms, [42])
        let rooms = python(
            """
            import json, sys, urllib.request
            doc = json.loads(urllib.request.urlopen(sys.argv[1] + '/rooms', timeout=10).read())
            print('ids', [room.get('id', room.get('room')) for room in doc['rooms']])
            """, [harness.baseURL])
        XCTAssertTrue(rooms.contains("ids [42]"), rooms)
        let bad = runProcess([
            "curl", "-sS", "-i", "-X", "POST", "-H", "Authorization: Bearer s3cret-token",
            "\(harness.baseURL)/rooms/abc",
        ])
        XCTAssertTrue(bad.output.hasPrefix("HTTP/1.1 400 "), bad.output)
        let delete = runProcess(["curl", "-sS", "-i", "-X", "DELETE", "-H", "Authorization: Bearer s3cret-token", url])
        XCTAssertTrue(delete.output.hasPrefix("HTTP/1.1 200 OK"), delete.output)
        XCTAssertEqual(harness.collector.rooms, [])
        let get = runProcess(["curl", "-sS", "-i", url])
        XCTAssertTrue(get.output.hasPrefix("HTTP/1.1 405 "), get.output)
        XCTAssertTrue(get.output.contains("Allow: POST, DELETE\r\n"), get.output)
    }

    func testServerSentEventsDeliverDanmakuWithIdsAndResumeWithoutDuplicates() throws {
        let harness = try RealtimeHarness(rooms: [7, 8], ratePerRoom: 40)
        defer { harness.close() }
        waitLive(harness, rooms: 2)
        let output = python(
            """
            import json, sys, urllib.request
            base = sys.argv[1]
            def read_events(url, count, headers={}):
                request = urllib.request.Request(url, headers=headers)
                response = urllib.request.urlopen(request, timeout=15)
                assert response.headers['Content-Type'] == 'text/event-stream', response.headers
                events, current = [], {}
                while len(events) < count:
                    line = response.readline().decode().rstrip('\\n')
                    if line == '':
                        if 'data' in current: events.append(current)
                        current = {}
                    elif not line.startswith(':'):
                        name, _, value = line.partition(':')
                        current[name] = value[1:] if value.startswith(' ') else value
                response.close()
                return events
            first = read_events(base + '/events?rooms=7&kinds=danmaku', 6)
            for event in first:
                data = json.loads(event['data'])
                assert data['room'] == 7 and data['kind'] == 'danmaku', data
                assert event.get('event', 'message') == 'message', event
            ids = [event['id'] for event in first]
            print('first', len(ids), len(set(ids)))
            resumed = read_events(base + '/events?rooms=7&kinds=danmaku', 5, {'Last-Event-ID': ids[2]})
            print('resume-header', [e['id'] for e in resumed[:3]] == ids[3:6])
            since = read_events(base + '/events?rooms=7&kinds=danmaku&since=' + ids[1], 4)
            print('resume-since', [e['id'] for e in since[:4]] == ids[2:6])
            """, [harness.baseURL])
        XCTAssertTrue(output.contains("first 6 6"), output)
        XCTAssertTrue(output.contains("resume-header True"), output)
        XCTAssertTrue(output.contains("resume-since True"), output)
    }

    func testCurlReadsTheEventStream() throws {
        let harness = try RealtimeHarness(rooms: [3], ratePerRoom: 40)
        defer { harness.close() }
        waitLive(harness, rooms: 1)
        let result = runProcess(
            ["curl", "-sS", "-N", "--max-time", "2", "\(harness.baseURL)/events?rooms=3"], timeout: .seconds(10))
        // curl exits 28 at --max-time: the stream never ends by itself.
        XCTAssertEqual(result.status, 28, result.output)
        XCTAssertTrue(result.output.hasPrefix("retry: "), result.output)
        XCTAssertTrue(result.output.contains("\nid: "), result.output)
        XCTAssertTrue(result.output.contains(#"data: {"#), result.output)
    }

    func testBadSubscriptionQueryIs400WithAMessage() throws {
        let harness = try RealtimeHarness()
        defer { harness.close() }
        let result = runProcess(["curl", "-sS", "-i", "\(harness.baseURL)/events?kinds=nonsense"])
        XCTAssertTrue(result.output.hasPrefix("HTTP/1.1 400 Bad Request"), result.output)
        XCTAssertTrue(result.output.contains("nonsense"), result.output)
        let missing = runProcess(["curl", "-sS", "-i", "\(harness.baseURL)/nothing/here"])
        XCTAssertTrue(missing.output.hasPrefix("HTTP/1.1 404 Not Found"), missing.output)
        // Only embedded assets: no path reaches the file system, however it is spelled.
        for path in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/app.js/../../etc/passwd", "/Package.swift"] {
            let client = try RawClient(port: harness.port)
            client.send("GET \(path) HTTP/1.1\r\nConnection: close\r\n\r\n")
            let answer = client.read().text
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 404 Not Found"), "\(path): \(answer)")
            XCTAssertFalse(answer.contains("root:"), path)
        }
        let notUpgrade = runProcess(["curl", "-sS", "-i", "\(harness.baseURL)/ws"])
        XCTAssertTrue(notUpgrade.output.hasPrefix("HTTP/1.1 426 Upgrade Required"), notUpgrade.output)
        let version = runProcess([
            "curl", "-sS", "-i", "-H", "Upgrade: websocket", "-H", "Connection: Upgrade", "-H",
            "Sec-WebSocket-Version: 8", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "\(harness.baseURL)/ws",
        ])
        XCTAssertTrue(version.output.hasPrefix("HTTP/1.1 426 "), version.output)
        XCTAssertTrue(version.output.contains("Sec-WebSocket-Version: 13"), version.output)
    }

    func testWebSocketDeliversDanmakuAndChecksOrigin() throws {
        let harness = try RealtimeHarness(rooms: [9], ratePerRoom: 40) { $0.allowedOrigins = ["https://ok.example"] }
        defer { harness.close() }
        waitLive(harness, rooms: 1)
        let output = python(
            """
            import json, sys
            from websockets.sync.client import connect
            from websockets.exceptions import InvalidStatus
            url = sys.argv[1]
            with connect(url + '/ws?rooms=9&kinds=danmaku', open_timeout=10) as ws:
                got = []
                while len(got) < 3:
                    message = json.loads(ws.recv(timeout=10))
                    if message.get('kind') == 'danmaku': got.append(message)
                print('ws', len(got), all(m['room'] == 9 for m in got), all('id' in m for m in got))
                ws.ping().wait(timeout=5)
                print('pong ok')
            with connect(url + '/ws?rooms=9', origin='https://ok.example', open_timeout=10) as ws:
                print('allowed origin', 'kind' in json.loads(ws.recv(timeout=10)) or True)
            try:
                connect(url + '/ws?rooms=9', origin='https://evil.example', open_timeout=10)
                print('evil accepted')
            except InvalidStatus as e:
                print('evil refused', e.response.status_code)
            """, [harness.baseURL.replacingOccurrences(of: "http://", with: "ws://")])
        XCTAssertTrue(output.contains("ws 3 True True"), output)
        XCTAssertTrue(output.contains("pong ok"), output)
        XCTAssertTrue(output.contains("allowed origin True"), output)
        XCTAssertTrue(output.contains("evil refused 403"), output)
    }

    func testASubscriberThatNeverReadsDoesNotDelayAnother() throws {
        var hub = EventHub.Configuration()
        hub.subscriberQueueBytes = 16 << 10
        let harness = try RealtimeHarness(rooms: [11], ratePerRoom: 1_500, hub: hub)
        defer { harness.close() }
        waitLive(harness, rooms: 1)
        // The stalled subscriber: a tiny receive buffer, and it never reads.
        let stalled = try RawClient(port: harness.port, receiveBuffer: 4_096)
        stalled.send("GET /events?rooms=11 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(20)) { harness.hub.statistics.eventsSkipped > 0 },
            "the stalled subscriber's queue never filled: \(harness.hub.statistics)")
        // The kernel holds at most the stream's bounded SO_SNDBUF (64 KiB, doubled) for it, not the autotuned
        // megabytes: skipping began after a few hundred ~600-byte events (about 7,000 before the bound: under
        // ThreadSanitizer the queue did not fill within 10 s).
        XCTAssertLessThan(harness.hub.statistics.deliveries, 2_000, "\(harness.hub.statistics)")
        // Meanwhile a reading subscriber keeps receiving the live stream.
        let output = python(
            """
            import sys, time, urllib.request
            response = urllib.request.urlopen(sys.argv[1] + '/events?rooms=11', timeout=10)
            started, ids = time.monotonic(), 0
            while ids < 2000 and time.monotonic() - started < 20:
                if response.readline().startswith(b'id: '): ids += 1
            print('reader got', ids)
            """, [harness.baseURL])
        XCTAssertTrue(output.contains("reader got 2000"), "\(output) \(harness.hub.statistics)")
        XCTAssertGreaterThan(harness.hub.statistics.eventsSkipped, 0)
        // The reader has gone; the stalled subscriber is still held (skip-to-newest, not disconnect).
        XCTAssertTrue(
            pollUntil(timeout: .seconds(5), interval: .milliseconds(20)) { harness.hub.statistics.subscribers == 1 },
            "\(harness.hub.statistics)")
    }

    func testAlarmsAreReportedOnceEachAndShownInMetrics() throws {
        let reported = Lock<[String]>([])
        // A near-silent room: live, but no danmaku for far longer than `silentAfter`.
        let harness = try RealtimeHarness(rooms: [21], ratePerRoom: 0.01) { configuration in
            configuration.alarms = .init(silentAfter: .milliseconds(300))
            configuration.alarmCheckInterval = .milliseconds(50)
            configuration.onAlarm = { alarm in reported.withLock { $0.append("\(alarm.room)/\(alarm.kind)") } }
        }
        defer { harness.close() }
        waitLive(harness, rooms: 1)
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(20)) {
                reported.withLock { $0.contains("21/silent") }
            }, "no silent alarm: \(reported.withLock { $0 })")
        // Many more checks run; nothing is reported twice.
        usleep(600_000)
        let all = reported.withLock { $0 }
        XCTAssertEqual(all.count, Set(all).count, "an alarm was reported twice: \(all)")
        XCTAssertTrue(harness.server.activeAlarms().contains { $0.room == 21 && $0.kind == .silent })
        let metrics = runProcess(["curl", "-sS", "\(harness.baseURL)/metrics"])
        XCTAssertTrue(metrics.output.contains(#"danmu_room_alarm{room="21",alarm="silent"} 1"#), metrics.output)
    }

    func testTwoHundredSubscribersReceiveTheSameEventsInTheSameOrder() throws {
        let harness = try RealtimeHarness(rooms: [31], ratePerRoom: 50)
        defer { harness.close() }
        waitLive(harness, rooms: 1)
        let output = python(
            """
            import asyncio, sys
            port = int(sys.argv[1])
            async def subscriber(events, ready):
                reader, writer = await asyncio.open_connection('127.0.0.1', port)
                writer.write(b'GET /events?rooms=31 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
                await writer.drain()
                head = await reader.readuntil(b'\\r\\n\\r\\n')
                assert head.startswith(b'HTTP/1.1 200 OK') and b'text/event-stream' in head, head
                ready.release()
                ids = []
                while len(ids) < events:
                    line = await reader.readline()
                    if line.startswith(b'id: '): ids.append(line[4:].strip())
                writer.close()
                return ids
            async def main():
                ready = asyncio.Semaphore(0)
                tasks = [asyncio.create_task(subscriber(40, ready)) for _ in range(200)]
                results = await asyncio.wait_for(asyncio.gather(*tasks), 40)
                # Every subscriber got 40 ids in increasing order; the ids after the newest first id are shared.
                start = max(r[0] for r in results)
                tails = [[i for i in r if int(i.split(b'-')[1]) >= int(start.split(b'-')[1])] for r in results]
                shortest = min(len(t) for t in tails)
                assert all(t[:shortest] == tails[0][:shortest] for t in tails)
                assert all(r == sorted(r, key=lambda i: int(i.split(b'-')[1])) for r in results)
                print('subscribers', len(results), 'each', min(len(r) for r in results), 'shared', shortest)
            asyncio.run(main())
            """, ["\(harness.port)"], timeout: .seconds(50))
        XCTAssertTrue(output.contains("subscribers 200 each 40"), output)
    }
}
