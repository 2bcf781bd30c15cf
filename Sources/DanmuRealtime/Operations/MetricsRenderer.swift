import DanmuClient
import DanmuPipeline

/// Renders `GET /metrics`: the collector's per-room and total counters, the sinks, the HTTP subscribers and the
/// room alarms, in the Prometheus text exposition format 0.0.4.
///
/// Every family is always written (HELP and TYPE even with no samples), so a dashboard finds each name from the
/// first scrape. Rooms come sorted by id, kinds by name: two renders of the same input are byte-identical.
/// Counters end in `_total`; levels (queued bytes, subscribers, phase, masked mode, alarms) are gauges.
public enum MetricsRenderer {
    /// The content type of the exposition format this renders.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition text for one scrape.
    public static func render(
        collector: CollectorStatistics, sinks: [(name: String, statistics: SinkStatistics)] = [],
        subscribers: SubscriberMetrics = SubscriberMetrics(), alarms: [RoomAlarm] = []
    ) -> [UInt8] {
        var out = PrometheusTextWriter(capacity: 1024 + collector.rooms.count * 1024)
        let rooms = collector.rooms.sorted { $0.room < $1.room }
        writeTotals(collector, into: &out)
        writeRooms(rooms, into: &out)
        writeSinks(sinks, into: &out)
        writeSubscribers(subscribers, into: &out)
        writeAlarms(alarms, into: &out)
        return out.bytes
    }

    private static func writeTotals(_ collector: CollectorStatistics, into out: inout PrometheusTextWriter) {
        out.family("danmu_rooms", .gauge, help: "Rooms registered with the collector, by phase.")
        for phase in RoomPhase.allCases {
            out.sample("danmu_rooms", ["phase": phase.rawValue], collector.rooms.count { $0.phase == phase })
        }
        out.family("danmu_events_total", .counter, help: "Events delivered to handlers, all rooms, by kind.")
        var byKind: [EventKind: Int] = [:]
        for room in collector.rooms { byKind.merge(room.eventsByKind, uniquingKeysWith: +) }
        for kind in EventKind.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            out.sample("danmu_events_total", ["kind": kind.rawValue], byKind[kind] ?? 0)
        }
        out.family("danmu_bytes_received_total", .counter, help: "Bytes read from the rooms' sockets, all rooms.")
        out.sample("danmu_bytes_received_total", collector.bytesReceived)
        out.family("danmu_reconnects_total", .counter, help: "Connection attempts started after a failure.")
        out.sample("danmu_reconnects_total", collector.reconnects)
        out.family("danmu_errors_total", .counter, help: "Room failures of any kind, all rooms.")
        out.sample("danmu_errors_total", collector.errors)
        out.family("danmu_protocol_errors_total", .counter, help: "Protocol errors (bad frame, compression, JSON).")
        out.sample("danmu_protocol_errors_total", collector.protocolErrors)
        out.family("danmu_auth_failures_total", .counter, help: "Auth failures (rejected, timed out, closed).")
        out.sample("danmu_auth_failures_total", collector.authFailures)
        out.family("danmu_rooms_masked", .gauge, help: "Rooms whose socket was switched to masked (guest) mode.")
        out.sample("danmu_rooms_masked", collector.rooms.count { $0.maskedModeSeen })
        out.family("danmu_queued_bytes", .gauge, help: "Bytes received and not yet delivered, all rooms.")
        out.sample("danmu_queued_bytes", collector.rooms.reduce(0) { $0 + $1.queuedBytes })
    }

    private static func writeRooms(_ rooms: [RoomStatistics], into out: inout PrometheusTextWriter) {
        out.family("danmu_room_phase", .gauge, help: "1 for the room's current phase and transport.")
        for room in rooms {
            let transport = room.transport?.rawValue ?? "none"
            out.sample(
                "danmu_room_phase", ["room": "\(room.room)", "phase": room.phase.rawValue, "transport": transport], 1)
        }
        out.family("danmu_room_events_total", .counter, help: "Events delivered to handlers, by room and kind.")
        for room in rooms {
            for (kind, count) in room.eventsByKind.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out.sample("danmu_room_events_total", ["room": "\(room.room)", "kind": kind.rawValue], count)
            }
        }
        let counters: [(StaticString, String, KeyPath<RoomStatistics, Int>)] = [
            ("danmu_room_bytes_received_total", "Bytes read from the room's sockets.", \.bytesReceived),
            ("danmu_room_reconnects_total", "Connection attempts of the room started after a failure.", \.reconnects),
            ("danmu_room_errors_total", "Failures of the room, of any kind.", \.errors),
            ("danmu_room_protocol_errors_total", "Protocol errors of the room.", \.protocolErrors),
            ("danmu_room_auth_failures_total", "Auth failures of the room.", \.authFailures),
        ]
        for (name, help, field) in counters {
            out.family(name, .counter, help: help)
            for room in rooms { out.sample(name, ["room": "\(room.room)"], room[keyPath: field]) }
        }
        out.family("danmu_room_masked_mode", .gauge, help: "1 when the room's socket was switched to masked mode.")
        for room in rooms {
            out.sample("danmu_room_masked_mode", ["room": "\(room.room)"], room.maskedModeSeen ? 1 : 0)
        }
        out.family("danmu_room_queued_bytes", .gauge, help: "Bytes of the room received and not yet delivered.")
        for room in rooms { out.sample("danmu_room_queued_bytes", ["room": "\(room.room)"], room.queuedBytes) }
    }

    private static func writeSinks(
        _ sinks: [(name: String, statistics: SinkStatistics)], into out: inout PrometheusTextWriter
    ) {
        let counters: [(StaticString, String, KeyPath<SinkStatistics, Int>)] = [
            ("danmu_sink_written_total", "Records the sink acknowledged.", \.written),
            ("danmu_sink_failures_total", "Failed writes of the sink (each retried).", \.failures),
            ("danmu_sink_spooled_total", "Records written to the sink's backlog spool.", \.spooled),
            ("danmu_sink_dropped_total", "Records the sink dropped.", \.dropped),
        ]
        for (name, help, field) in counters {
            out.family(name, .counter, help: help)
            for sink in sinks { out.sample(name, ["sink": sink.name], sink.statistics[keyPath: field]) }
        }
        out.family("danmu_sink_backlog_bytes", .gauge, help: "Bytes in the sink's backlog spool.")
        for sink in sinks { out.sample("danmu_sink_backlog_bytes", ["sink": sink.name], sink.statistics.backlogBytes) }
        out.family("danmu_sink_queued_records", .gauge, help: "Records waiting for the sink in memory (its lag).")
        for sink in sinks {
            out.sample("danmu_sink_queued_records", ["sink": sink.name], sink.statistics.queuedRecords)
        }
    }

    private static func writeSubscribers(_ subscribers: SubscriberMetrics, into out: inout PrometheusTextWriter) {
        out.family("danmu_subscribers", .gauge, help: "HTTP subscribers connected now, by transport.")
        out.sample("danmu_subscribers", ["transport": "sse"], subscribers.sseSubscribers)
        out.sample("danmu_subscribers", ["transport": "ws"], subscribers.webSocketSubscribers)
        out.family("danmu_subscriber_events_delivered_total", .counter, help: "Events written to subscribers.")
        out.sample("danmu_subscriber_events_delivered_total", subscribers.eventsDelivered)
        out.family(
            "danmu_subscriber_events_skipped_total", .counter,
            help: "Events skipped for subscribers whose queue was full (skip-to-newest policy).")
        out.sample("danmu_subscriber_events_skipped_total", subscribers.eventsSkippedByPolicy)
        out.family(
            "danmu_subscribers_disconnected_total", .counter,
            help: "Subscribers closed because their queue was full (disconnect policy).")
        out.sample("danmu_subscribers_disconnected_total", subscribers.disconnectedByPolicy)
        out.family("danmu_subscriber_gaps_total", .counter, help: "Gap events sent to subscribers.")
        out.sample("danmu_subscriber_gaps_total", subscribers.gapsReported)
    }

    private static func writeAlarms(_ alarms: [RoomAlarm], into out: inout PrometheusTextWriter) {
        out.family("danmu_alarms", .gauge, help: "Rooms with an active alarm, by alarm (silent: live, no danmaku).")
        for kind in RoomAlarm.Kind.allCases {
            out.sample("danmu_alarms", ["alarm": kind.rawValue], alarms.count { $0.kind == kind })
        }
        out.family("danmu_room_alarm", .gauge, help: "1 for each active alarm of a room.")
        for alarm in alarms.sorted(by: { ($0.room, $0.kind) < ($1.room, $1.kind) }) {
            out.sample("danmu_room_alarm", ["room": "\(alarm.room)", "alarm": alarm.kind.rawValue], 1)
        }
    }
}
