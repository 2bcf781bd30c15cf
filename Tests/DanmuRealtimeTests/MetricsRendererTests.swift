@testable import DanmuClient
@testable import DanmuPipeline
import DanmuRealtime
import XCTest

/// `/metrics` read back with the reference parser, `prometheus_client.parser` (pip `prometheus-client`,
/// installed by Scripts/ensure-test-deps.sh), plus the format's rules checked line by line here.
final class MetricsRendererTests: XCTestCase {
    // Prints "family NAME TYPE" per family and "NAME LABELS-AS-SORTED-JSON VALUE" per sample
    // (integral values without ".0", whichever number type the installed parser returns).
    private let parse = """
        import json, sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            sys.exit('prometheus_client is missing: run Scripts/ensure-test-deps.sh')
        text = open(sys.argv[1], encoding='utf-8').read()
        for family in text_string_to_metric_families(text):
            print('family %s %s' % (family.name, family.type))
            for sample in family.samples:
                value = int(sample.value) if float(sample.value).is_integer() else sample.value
                print('%s %s %s' % (sample.name, json.dumps(sample.labels, sort_keys=True, ensure_ascii=False), value))
        """

    private func parsed(_ bytes: [UInt8]) -> Set<String> {
        let result = PageFixtures.withTemporaryFile("metrics.txt", bytes) { PageFixtures.python(parse, [$0]) }
        XCTAssertEqual(result.status, 0, result.output)
        return Set(result.output.split(separator: "\n").map(String.init))
    }

    private func sampleStatistics() -> (CollectorStatistics, [(name: String, statistics: SinkStatistics)]) {
        let collector = CollectorStatistics(rooms: [
            PageFixtures.room(
                8, kinds: [.danmaku: 30, .gift: 4], transport: .ws, bytes: 5_000, reconnects: 2, errors: 3,
                masked: true, queuedBytes: 128),
            PageFixtures.room(2, phase: .backingOff, kinds: [.danmaku: 1], transport: nil, bytes: 70),
        ])
        var redis = SinkStatistics()
        redis.written = 31
        redis.failures = 2
        redis.spooled = 9
        redis.backlogBytes = 4_096
        redis.queuedRecords = 12
        return (collector, [(name: "redis", statistics: redis)])
    }

    func testReferenceParserReadsEveryFamilyWithTheValuesGiven() {
        let (collector, sinks) = sampleStatistics()
        let subscribers = SubscriberMetrics(
            sseSubscribers: 3, webSocketSubscribers: 1, eventsSkippedByPolicy: 17, disconnectedByPolicy: 2,
            gapsReported: 5, eventsDelivered: 1_000)
        let alarms = [RoomAlarm(room: 8, kind: .masked, raisedAt: .zero)]
        let lines = parsed(
            MetricsRenderer.render(collector: collector, sinks: sinks, subscribers: subscribers, alarms: alarms))
        let expected = [
            "family danmu_events counter", #"danmu_events_total {"kind": "danmaku"} 31"#,
            #"danmu_events_total {"kind": "gift"} 4"#, #"danmu_events_total {"kind": "super_chat"} 0"#,
            "family danmu_rooms gauge", #"danmu_rooms {"phase": "live"} 1"#, #"danmu_rooms {"phase": "backoff"} 1"#,
            #"danmu_room_events_total {"kind": "danmaku", "room": "8"} 30"#,
            #"danmu_room_events_total {"kind": "danmaku", "room": "2"} 1"#,
            #"danmu_room_phase {"phase": "live", "room": "8", "transport": "ws"} 1"#,
            #"danmu_room_phase {"phase": "backoff", "room": "2", "transport": "none"} 1"#,
            #"danmu_bytes_received_total {} 5070"#, #"danmu_room_bytes_received_total {"room": "8"} 5000"#,
            #"danmu_reconnects_total {} 2"#, #"danmu_room_reconnects_total {"room": "8"} 2"#,
            #"danmu_protocol_errors_total {} 1"#, #"danmu_room_protocol_errors_total {"room": "8"} 1"#,
            #"danmu_auth_failures_total {} 0"#, #"danmu_room_errors_total {"room": "8"} 3"#,
            #"danmu_room_masked_mode {"room": "8"} 1"#, #"danmu_room_masked_mode {"room": "2"} 0"#,
            #"danmu_rooms_masked {} 1"#, #"danmu_queued_bytes {} 128"#,
            #"danmu_room_queued_bytes {"room": "8"} 128"#,
            #"danmu_sink_written_total {"sink": "redis"} 31"#, #"danmu_sink_failures_total {"sink": "redis"} 2"#,
            #"danmu_sink_spooled_total {"sink": "redis"} 9"#, #"danmu_sink_backlog_bytes {"sink": "redis"} 4096"#,
            #"danmu_sink_queued_records {"sink": "redis"} 12"#,
            #"danmu_subscribers {"transport": "sse"} 3"#, #"danmu_subscribers {"transport": "ws"} 1"#,
            #"danmu_subscriber_events_skipped_total {} 17"#, #"danmu_subscribers_disconnected_total {} 2"#,
            #"danmu_subscriber_gaps_total {} 5"#, #"danmu_subscriber_events_delivered_total {} 1000"#,
            #"danmu_alarms {"alarm": "masked"} 1"#, #"danmu_alarms {"alarm": "silent"} 0"#,
            #"danmu_room_alarm {"alarm": "masked", "room": "8"} 1"#,
        ]
        for line in expected {
            XCTAssertTrue(lines.contains(line), "missing \(line) in\n\(lines.sorted().joined(separator: "\n"))")
        }
    }

    func testLabelValuesAreEscapedSoTheParserGetsThemBack() {
        var statistics = SinkStatistics()
        statistics.written = 1
        let name = "quote \" backslash \\ newline \n end 弹幕"
        let lines = parsed(
            MetricsRenderer.render(
                collector: CollectorStatistics(rooms: []), sinks: [(name: name, statistics: statistics)]))
        XCTAssertTrue(
            lines.contains(#"danmu_sink_written_total {"sink": "quote \" backslash \\ newline \n end 弹幕"} 1"#),
            lines.sorted().joined(separator: "\n"))
        let text = String(
            decoding: MetricsRenderer.render(
                collector: CollectorStatistics(rooms: []),
                sinks: [
                    (name: name, statistics: statistics)
                ]), as: UTF8.self)
        XCTAssertTrue(text.contains(#"sink="quote \" backslash \\ newline \n end 弹幕""#), text)
    }

    func testEveryFamilyHasHelpAndTypeAndCountersEndInTotal() {
        let (collector, sinks) = sampleStatistics()
        let text = String(decoding: MetricsRenderer.render(collector: collector, sinks: sinks), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\n"), "the format ends every line with a newline")
        var help = Set<String>()
        var types: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let fields = line.split(separator: " ")
            if line.hasPrefix("# HELP ") {
                help.insert(String(fields[2]))
            } else if line.hasPrefix("# TYPE ") {
                let name = String(fields[2])
                XCTAssertTrue(help.contains(name), "TYPE before HELP for \(name)")
                XCTAssertNil(types[name], "\(name) declared twice")
                types[name] = String(fields[3])
                if fields[3] == "counter" { XCTAssertTrue(name.hasSuffix("_total"), "counter \(name)") }
            } else {
                XCTAssertFalse(line.isEmpty, "no blank lines")
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                XCTAssertNotNil(types[name], "sample \(name) has no TYPE line: \(line)")
                XCTAssertNotNil(Int(fields.last ?? ""), "integer value: \(line)")
            }
        }
        for family in ["danmu_subscribers", "danmu_alarms", "danmu_room_alarm", "danmu_sink_queued_records"] {
            XCTAssertNotNil(types[family], "\(family) is always declared")
        }
        XCTAssertEqual(MetricsRenderer.contentType, "text/plain; version=0.0.4; charset=utf-8")
    }

    func testRenderIsDeterministicAndSortsRooms() {
        let (collector, sinks) = sampleStatistics()
        let first = MetricsRenderer.render(collector: collector, sinks: sinks)
        XCTAssertEqual(first, MetricsRenderer.render(collector: collector, sinks: sinks))
        let text = String(decoding: first, as: UTF8.self)
        let two = text.range(of: #"danmu_room_queued_bytes{room="2"}"#)
        let eight = text.range(of: #"danmu_room_queued_bytes{room="8"}"#)
        XCTAssertNotNil(two)
        XCTAssertNotNil(eight)
        if let two, let eight { XCTAssertLessThan(two.lowerBound, eight.lowerBound, "rooms sorted by id") }
    }
}
