import DanmuCodecs

/// What every event payload can do for output: name its kind and cmd, write its JSON Lines fields and its text
/// line. Each kind's file implements it next to its model, so one file holds all there is to know about a kind.
protocol EventPayload: Sendable {
    /// The kind, which is also the `DanmuEvent` case the payload travels in.
    static var kind: EventKind { get }
    /// `DanmuEvent.cmd`: the message's cmd, suffix stripped (the kinds with one cmd return it as a literal).
    var cmd: String { get }
    /// The kind's fields of the JSON Lines record, after the common `room`, `cmd`, `kind`, `received_at`.
    /// The order is the schema (pinned by Fixtures/golden/events.jsonl); absent optionals are written as null.
    func writeJSONFields(into writer: inout JSONWriter)
    /// The text line after `[room] kind `; all server text passes `clean` (`EventText.sanitize`).
    var textLine: String { get }
}

/// A kind parsed from op 5 JSON messages: its cmds and its parse. `EventParser` builds one cmd → codec table
/// from every `EventKind.codec` when first used.
protocol EventKindCodec: EventPayload {
    /// The cmds, suffix stripped, whose messages `parse` reads. A cmd belongs to one kind only.
    static var commands: [String] { get }
    /// The payload of one message, or nil when it carries none (the message then arrives as `.unknown`).
    static func parse(_ message: EventMessage) -> Self?
    /// Appends the message's events; false when there are none. The default appends `parse`'s one payload;
    /// a kind whose message may carry several (`SEND_GIFT_V2`) implements this instead.
    static func parse(_ message: EventMessage, into events: inout [DanmuEvent]) -> Bool
    /// The payload in its `DanmuEvent` case.
    var event: DanmuEvent { get }
}

extension EventKindCodec {
    static func parse(_ message: EventMessage, into events: inout [DanmuEvent]) -> Bool {
        guard let payload = parse(message) else { return false }
        events.append(payload.event)
        return true
    }
}

/// One op 5 message as the codecs see it.
struct EventMessage {
    /// The whole message object.
    let root: JSONNode
    /// `cmd` with any `:…` suffix stripped (`DANMU_MSG:4:0:2:2:2:0` → `DANMU_MSG`).
    let cmd: String
    /// `root["data"]`, where most cmds keep their fields; looked up once per message.
    let data: JSONNode?
}

/// An operation over any payload, by its concrete type (see `DanmuEvent.visitPayload`).
protocol EventPayloadVisitor {
    associatedtype State = Void
    associatedtype Result = Void
    static func visit<Payload: EventPayload>(_ payload: Payload, _ state: inout State) -> Result
}

// MARK: - Field helpers for the parsers: absent / null / wrong type read as a neutral value, never a failure.

extension EventKindCodec {
    @inline(__always) static func int(_ node: JSONNode?) -> Int64 { node?.int64Lenient ?? 0 }
    @inline(__always) static func string(_ node: JSONNode?) -> String { node?.string ?? "" }

    /// A string field that some messages send as a number (`live_key`, `tid`).
    static func stringOrNumber(_ node: JSONNode?) -> String {
        guard let node else { return "" }
        if let s = node.string { return s }
        if node.kind == .number { return String(decoding: node.rawBytes, as: UTF8.self) }
        return ""
    }

    /// An array of numbers (or numeric strings); other elements are skipped.
    static func ints(_ node: JSONNode?) -> [Int64] {
        guard let node, node.kind == .array else { return [] }
        return node.elements.compactMap { $0.int64Lenient }
    }

    /// The elements of an array field; empty when absent or not an array.
    static func array(_ node: JSONNode?) -> [JSONNode] {
        guard let node, node.kind == .array else { return [] }
        return Array(node.elements)
    }

    /// A string field that carries JSON text (`DM_INTERACTION` `data.data`): the embedded document's bytes,
    /// or nil when the field is absent, not a string, or not valid JSON.
    static func embeddedJSON(_ node: JSONNode?) -> [UInt8]? {
        guard let node, let document = try? node.parseStringAsJSON() else { return nil }
        return Array(document.root.rawBytes)
    }
}
