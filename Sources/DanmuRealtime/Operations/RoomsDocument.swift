import DanmuClient
import DanmuCodecs

/// Renders `GET /rooms`: the JSON document the live page polls every second.
///
/// ```json
/// {"rooms":[{"id":42,"phase":"live","transport":"tcp","events":120,"eventsByKind":{"danmaku":100,"gift":20},
///   "bytes":34567,"reconnects":0,"errors":0,"protocolErrors":0,"authFailures":0,"lastError":null,
///   "maskedMode":false,"queuedBytes":0,"alarms":["silent"]}],
///  "totals":{"rooms":1,"live":1,"connecting":0,"backingOff":0,"givenUp":0,"events":120,
///   "eventsByKind":{"danmaku":100,"gift":20},"bytes":34567,"reconnects":0,"errors":0,"masked":0,"alarms":1},
///  "sampledAtMs":1764633600000}
/// ```
/// `phase` is `RoomPhase`'s raw value (`idle resolving connecting authenticating live backoff given-up removed`),
/// `transport` is `tcp`, `ws`, `wss` or null before the first connect, `alarms` holds `RoomAlarm.Kind` raw values.
/// Counters are cumulative: the page computes messages per second from the deltas between two polls. Rooms come
/// sorted by id and kinds by name, so the same input always gives the same bytes.
public enum RoomsDocument {
    /// The content type of the document.
    public static let contentType = "application/json"

    /// The document for `statistics`, with each room's active `alarms` listed on it. `sampledAt` (unix
    /// milliseconds, when the statistics were taken) is written as `"sampledAtMs"`: the page divides counter
    /// deltas by it rather than by its own poll times, which carry the network's and the event loop's jitter.
    public static func render(
        _ statistics: CollectorStatistics, alarms: [RoomAlarm] = [], sampledAt unixMilliseconds: Int64? = nil
    ) -> [UInt8] {
        var alarmsByRoom: [Int64: [RoomAlarm.Kind]] = [:]
        for alarm in alarms { alarmsByRoom[alarm.room, default: []].append(alarm.kind) }
        var out = JSONWriter(capacity: 256 + statistics.rooms.count * 320)
        out.beginObject()
        out.key(static: "rooms")
        out.beginArray()
        var totalKinds: [EventKind: Int] = [:]
        for room in statistics.rooms.sorted(by: { $0.room < $1.room }) {
            totalKinds.merge(room.eventsByKind, uniquingKeysWith: +)
            write(room, alarms: (alarmsByRoom[room.room] ?? []).sorted(), into: &out)
        }
        out.endArray()
        out.key(static: "totals")
        out.beginObject()
        out.key(static: "rooms")
        out.int(statistics.rooms.count)
        out.key(static: "live")
        out.int(statistics.roomsLive)
        out.key(static: "connecting")
        out.int(statistics.roomsConnecting)
        out.key(static: "backingOff")
        out.int(statistics.roomsBackingOff)
        out.key(static: "givenUp")
        out.int(statistics.roomsGivenUp)
        out.key(static: "events")
        out.int(statistics.events)
        out.key(static: "eventsByKind")
        writeKinds(totalKinds, into: &out)
        out.key(static: "bytes")
        out.int(statistics.bytesReceived)
        out.key(static: "reconnects")
        out.int(statistics.reconnects)
        out.key(static: "errors")
        out.int(statistics.errors)
        out.key(static: "masked")
        out.int(statistics.rooms.count { $0.maskedModeSeen })
        out.key(static: "alarms")
        out.int(alarms.count)
        out.endObject()
        if let unixMilliseconds {
            out.key(static: "sampledAtMs")
            out.int(unixMilliseconds)
        }
        out.endObject()
        return out.bytes
    }

    private static func write(_ room: RoomStatistics, alarms: [RoomAlarm.Kind], into out: inout JSONWriter) {
        out.beginObject()
        out.key(static: "id")
        out.int(room.room)
        out.key(static: "phase")
        out.string(room.phase.rawValue)
        out.key(static: "transport")
        if let transport = room.transport { out.string(transport.rawValue) } else { out.null() }
        out.key(static: "events")
        out.int(room.events)
        out.key(static: "eventsByKind")
        writeKinds(room.eventsByKind, into: &out)
        out.key(static: "bytes")
        out.int(room.bytesReceived)
        out.key(static: "reconnects")
        out.int(room.reconnects)
        out.key(static: "errors")
        out.int(room.errors)
        out.key(static: "protocolErrors")
        out.int(room.protocolErrors)
        out.key(static: "authFailures")
        out.int(room.authFailures)
        out.key(static: "lastError")
        if let failure = room.lastError { out.string(failure.description) } else { out.null() }
        out.key(static: "maskedMode")
        out.bool(room.maskedModeSeen)
        out.key(static: "queuedBytes")
        out.int(room.queuedBytes)
        out.key(static: "alarms")
        out.beginArray()
        for alarm in alarms { out.string(alarm.rawValue) }
        out.endArray()
        out.endObject()
    }

    private static func writeKinds(_ kinds: [EventKind: Int], into out: inout JSONWriter) {
        out.beginObject()
        for (kind, count) in kinds.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out.key(kind.rawValue)
            out.int(count)
        }
        out.endObject()
    }
}
