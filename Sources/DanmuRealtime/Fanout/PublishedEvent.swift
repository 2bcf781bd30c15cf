import DanmuClient

/// One event as the hub holds it: its id, room and kind for matching, and its wire forms, each built once and then
/// shared by every subscriber (the reactor queues the same array for all of them, no copy).
///
/// Built on a room worker (under the hub's inbox lock, which fixes the sequence order), then only read on the
/// loop: the lazily built WebSocket frame is loop-confined, hence `@unchecked Sendable`.
final class PublishedEvent: @unchecked Sendable {
    let sequence: UInt64
    let room: Int64
    let kind: EventKind
    /// The whole SSE event: `id: <epoch>-<sequence>\ndata: <JSON Lines object>\n\n`.
    let serverSentEvent: [UInt8]
    /// Where the JSON object lies in `serverSentEvent`.
    private let jsonRange: Range<Int>
    /// The server's text frame, built the first time a WebSocket subscriber needs it. Loop-confined.
    private var webSocketFrameStorage: [UInt8]?

    /// `json` is the JSON Lines object of the event without its newline (`writeJSONLine`'s output).
    init(id: EventID, room: Int64, kind: EventKind, json: ArraySlice<UInt8>) {
        sequence = id.sequence
        self.room = room
        self.kind = kind
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.count + 40)
        bytes.append(contentsOf: "id: \(id)\ndata: ".utf8)
        let start = bytes.count
        // JSONWriter's output is compact and escapes control characters inside strings, so it holds no newline
        // and the event is one `data:` line. A raw newline could only be whitespace between tokens: a space is
        // the same JSON and keeps the line whole.
        if json.contains(UInt8(ascii: "\n")) {
            for byte in json { bytes.append(byte == UInt8(ascii: "\n") ? UInt8(ascii: " ") : byte) }
        } else {
            bytes.append(contentsOf: json)
        }
        jsonRange = start..<bytes.count
        bytes.append(contentsOf: "\n\n".utf8)
        serverSentEvent = bytes
    }

    /// The JSON Lines object.
    var json: ArraySlice<UInt8> { serverSentEvent[jsonRange] }

    var id: String {
        // The id text sits between "id: " and the first newline.
        let line = serverSentEvent[4...].prefix { $0 != UInt8(ascii: "\n") }
        return String(decoding: line, as: UTF8.self)
    }

    /// The event as one WebSocket text message: the JSON Lines object with `"id":"<event id>"` as its first member
    /// (a WebSocket has no id field of its own, and a client needs the id to resume with `?since=`). Loop thread.
    func webSocketFrame(using encoder: inout WebSocketFrameEncoder) -> [UInt8] {
        if let frame = webSocketFrameStorage { return frame }
        var payload: [UInt8] = []
        payload.reserveCapacity(jsonRange.count + 32)
        payload.append(contentsOf: "{\"id\":\"\(id)\",".utf8)
        // The object always has members (room, cmd, kind, received_at), so a ',' after the id is right.
        payload.append(contentsOf: json.dropFirst())
        let frame = encoder.encode(.text, payload: payload)
        webSocketFrameStorage = frame
        return frame
    }

    /// Bytes held in memory for this event (for the statistics; an estimate).
    var footprint: Int { 64 + serverSentEvent.capacity + (webSocketFrameStorage?.capacity ?? 0) }
}
