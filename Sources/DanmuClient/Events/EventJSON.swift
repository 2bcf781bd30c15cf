import DanmuCodecs

/// Appends one JSON Lines record for `event` (object + `\n`) to `writer` — the stable output schema.
///
/// Every line: `room` (number, long room id), `cmd` (suffix stripped), `kind` (`EventKind` raw value),
/// `received_at` (**unix milliseconds, a number**). Then the kind's fields (snake_case; absent optional
/// values are written as `null` so every line of a kind has the same keys). Unknown cmds carry `raw`: the
/// original message object embedded as JSON (not a string). See readme-parts/protocol.md for examples.
///
/// - Parameter receivedAt: unix **nanoseconds** (as `RoomEvent.receivedAt`); written as milliseconds.
public func writeJSONLine(room: Int64, receivedAt: Int64, event: DanmuEvent, into writer: inout JSONWriter) {
    // JSONWriter would put a ',' between two top-level values; JSON Lines wants none.
    writer.beginTopLevelValue()
    writer.beginObject()
    writer.key(static: "room"); writer.int(room)
    writer.key(static: "cmd"); writer.string(event.cmd)
    writer.key(static: "kind"); writer.string(event.kind.rawValue)
    writer.key(static: "received_at"); writer.int(receivedAt / 1_000_000)
    event.visitPayload(JSONFields.self, &writer)
    writer.endObject()
    writer.bytes.append(UInt8(ascii: "\n"))
}

/// Each kind's `writeJSONFields`, reached through the one switch in `DanmuEvent.visitPayload`.
private enum JSONFields: EventPayloadVisitor {
    static func visit<Payload: EventPayload>(_ payload: Payload, _ writer: inout JSONWriter) {
        payload.writeJSONFields(into: &writer)
    }
}

// Optional values are written as null, never left out, so every line of a kind has the same keys.
extension JSONWriter {
    mutating func optional(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func optional(_ value: Int64?) {
        if let value { int(value) } else { null() }
    }

    mutating func optional(_ value: Bool?) {
        if let value { bool(value) } else { null() }
    }

    /// An array of numbers.
    mutating func ints(_ values: [Int64]) {
        beginArray()
        for value in values { int(value) }
        endArray()
    }

    /// JSON text embedded as a value (not a string), or null. LF/CR/TAB can only be whitespace between tokens
    /// of valid JSON (inside strings they are escaped), so dropping them keeps the value on one line.
    mutating func embedded(_ json: [UInt8]?) {
        guard let json, !json.isEmpty else { return null() }
        if json.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            raw(json.lazy.filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        } else {
            raw(json)
        }
    }
}
