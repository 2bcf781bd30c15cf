import DanmuClient
import DanmuCodecs

/// A gap in what a subscriber receives, said out loud: events it will never get from this stream.
///
/// The JSON (an SSE `event: gap` whose `data:` is this object; a WebSocket text message of it):
/// ```json
/// {"type":"gap","reason":"slow","missed":12,"rooms":[{"room":1,"missed":9},{"room":2,"missed":3}]}
/// ```
/// - `reason`: `slow` (the subscriber's queue was full and the hub skipped to the newest events, the
///   `.skipToNewest` policy), `history` (a resume point older than what a room's history ring still holds, or
///   than the forgetting of a removed room's ring),
///   `replay_limit` (the ring holds it all but the replay was cut to the newest `maxReplayBytes`; a `history` gap
///   counts such events too), `restart` (a resume point from another epoch: another run of the process).
/// - `rooms`: each room with missed events; `null` for "every room" (a restart, or a forgotten room, when the
///   subscription names no rooms). `missed` per room and in total: the number of events when known, else `null` (a history overrun only
///   knows the count when everything the room evicted came after the resume point; a restart never knows it).
///   The evicted events a `history` gap counts are events of the room of any kind; every other count is of the
///   events the subscriber would have received.
/// Gap events carry no event id: a client resuming after one still resumes from the last event it received.
struct GapReport: Equatable {
    enum Reason: String {
        case slow
        case history
        case replayLimit = "replay_limit"
        case restart
    }

    var reason: Reason
    /// Rooms and their missed counts (nil = unknown), ordered by room; nil = every room.
    var rooms: [(room: Int64, missed: Int?)]?

    static func == (lhs: GapReport, rhs: GapReport) -> Bool {
        guard lhs.reason == rhs.reason else { return false }
        switch (lhs.rooms, rhs.rooms) {
        case (nil, nil): return true
        case (let a?, let b?): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        default: return false
        }
    }

    /// The sum of the rooms' counts when every one is known.
    var missed: Int? {
        guard let rooms else { return nil }
        var total = 0
        for entry in rooms {
            guard let missed = entry.missed else { return nil }
            total += missed
        }
        return total
    }

    /// The JSON object above.
    var json: [UInt8] {
        var writer = JSONWriter(capacity: 96)
        writer.beginObject()
        writer.key(static: "type")
        writer.string("gap")
        writer.key(static: "reason")
        writer.string(reason.rawValue)
        writer.key(static: "missed")
        if let missed { writer.int(missed) } else { writer.null() }
        writer.key(static: "rooms")
        if let rooms {
            writer.beginArray()
            for entry in rooms {
                writer.beginObject()
                writer.key(static: "room")
                writer.int(entry.room)
                writer.key(static: "missed")
                if let missed = entry.missed { writer.int(missed) } else { writer.null() }
                writer.endObject()
            }
            writer.endArray()
        } else {
            writer.null()
        }
        writer.endObject()
        return writer.bytes
    }

    /// `event: gap\ndata: <json>\n\n` (no `id:`, see above).
    var serverSentEvent: [UInt8] { Array("event: gap\ndata: ".utf8) + json + Array("\n\n".utf8) }

    /// One unmasked text frame holding the JSON.
    func webSocketFrame(using encoder: inout WebSocketFrameEncoder) -> [UInt8] {
        encoder.encode(.text, payload: json)
    }
}
