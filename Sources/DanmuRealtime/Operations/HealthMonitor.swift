import DanmuCodecs
import DanmuPipeline

/// What `GET /healthz` answers: healthy (`200`, `"status":"ok"`) unless one of three things has lasted too long,
/// then `503` with `"status":"unhealthy"` and the problems named (see docs/http.md):
///
/// - `no_live_room`: rooms are registered but none has been live (`RoomPhase.live`) for `noLiveRoomTimeout`;
///   no registered room at all is healthy (there is nothing to collect);
/// - `sink_stalled`: a sink holds records (queued or spooled) and has written none for `sinkStallTimeout`;
/// - `hub_stalled`: an event has waited for the hub's loop longer than `hubStallTimeout` (the loop is not
///   draining; see `EventHub.oldestQueuedEventSince`).
///
/// No I/O and no clock of its own: the server feeds it the collector's, the sinks' and the hub's readings with the
/// reactor's `now` at each alarm check and each `/healthz` request. Loop-confined (a value owned by the server).
struct HealthMonitor {
    typealias Configuration = RealtimeServer.HealthThresholds

    /// One unhealthy condition.
    struct Problem: Equatable {
        enum Kind: String {
            case noLiveRoom = "no_live_room"
            case sinkStalled = "sink_stalled"
            case hubStalled = "hub_stalled"
        }
        var kind: Kind
        /// A sentence for the operator, e.g. `none of 3 rooms live for 121 s`.
        var detail: String
    }

    /// The readings of one observation.
    struct Readings {
        var rooms: Int
        var roomsLive: Int
        var sinks: [(name: String, statistics: SinkStatistics)] = []
        /// Monotonic ns at which the oldest event still waiting for the hub's loop was queued; nil: none waits.
        var hubQueuedSince: UInt64?
    }

    let configuration: Configuration
    /// When (monotonic ns) a room was last seen live, or there were no rooms; the start before the first reading.
    private var lastLiveAt: UInt64
    /// Per sink: its `written` count and when that count last changed (or the sink last had nothing pending).
    private var sinkProgress: [String: (written: Int, since: UInt64)] = [:]

    init(configuration: Configuration, startedAt: UInt64) {
        self.configuration = configuration
        lastLiveAt = startedAt
    }

    /// Takes the readings at `now` (monotonic ns, never earlier than the previous call's) and returns the problems;
    /// empty = healthy.
    mutating func observe(_ readings: Readings, now: UInt64) -> [Problem] {
        var problems: [Problem] = []
        if readings.rooms == 0 || readings.roomsLive > 0 { lastLiveAt = now }
        let silent = now &- lastLiveAt
        if readings.rooms > 0, readings.roomsLive == 0, silent >= Self.nanoseconds(configuration.noLiveRoomTimeout) {
            problems.append(
                Problem(
                    kind: .noLiveRoom,
                    detail: "none of \(readings.rooms) rooms live for \(Self.seconds(silent)) s"))
        }
        var seen = Set<String>()
        for (name, statistics) in readings.sinks {
            seen.insert(name)
            let previous = sinkProgress[name]
            let pending = statistics.queuedRecords > 0 || statistics.backlogBytes > 0
            guard pending, let previous, previous.written == statistics.written
            else {
                sinkProgress[name] = (statistics.written, now)
                continue
            }
            let stalled = now &- previous.since
            if stalled >= Self.nanoseconds(configuration.sinkStallTimeout) {
                problems.append(
                    Problem(
                        kind: .sinkStalled,
                        detail:
                            "sink \(name): \(statistics.queuedRecords) records queued, \(statistics.backlogBytes) "
                            + "bytes spooled, none written for \(Self.seconds(stalled)) s"
                            + (statistics.lastError.map { " (last error: \($0))" } ?? "")))
            }
        }
        for name in sinkProgress.keys where !seen.contains(name) { sinkProgress[name] = nil }
        if let since = readings.hubQueuedSince, now >= since,
            now - since >= Self.nanoseconds(configuration.hubStallTimeout)
        {
            problems.append(
                Problem(
                    kind: .hubStalled,
                    detail: "an event has waited \(Self.seconds(now - since)) s for the hub's loop"))
        }
        return problems
    }

    /// The `/healthz` document: `{"status":"ok"|"unhealthy","problems":[{"problem":…,"detail":…}],…}`.
    static func document(
        problems: [Problem], rooms: Int, roomsLive: Int, subscribers: Int, uptimeSeconds: Double
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key(static: "status")
        writer.string(problems.isEmpty ? "ok" : "unhealthy")
        writer.key(static: "api_version")
        writer.int(DanmuRealtime.apiVersion)
        writer.key(static: "rooms")
        writer.int(rooms)
        writer.key(static: "rooms_live")
        writer.int(roomsLive)
        writer.key(static: "subscribers")
        writer.int(subscribers)
        writer.key(static: "uptime_seconds")
        writer.double(uptimeSeconds)
        writer.key(static: "problems")
        writer.beginArray()
        for problem in problems {
            writer.beginObject()
            writer.key(static: "problem")
            writer.string(problem.kind.rawValue)
            writer.key(static: "detail")
            writer.string(problem.detail)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// Whole seconds of `nanoseconds`.
    private static func seconds(_ nanoseconds: UInt64) -> UInt64 { nanoseconds / 1_000_000_000 }
}

extension RealtimeServer {
    /// How long each unhealthy condition may last before `GET /healthz` answers `503` (see `HealthMonitor` and
    /// docs/http.md).
    public struct HealthThresholds: Sendable, Equatable {
        /// Rooms registered and none live for this long: `no_live_room`.
        public var noLiveRoomTimeout: Duration
        /// A sink holding records and writing none for this long: `sink_stalled`.
        public var sinkStallTimeout: Duration
        /// An event waiting for the hub's loop this long: `hub_stalled`.
        public var hubStallTimeout: Duration

        public init(
            noLiveRoomTimeout: Duration = .seconds(120), sinkStallTimeout: Duration = .seconds(60),
            hubStallTimeout: Duration = .seconds(10)
        ) {
            self.noLiveRoomTimeout = noLiveRoomTimeout
            self.sinkStallTimeout = sinkStallTimeout
            self.hubStallTimeout = hubStallTimeout
        }
    }
}
