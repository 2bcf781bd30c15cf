import DanmuCodecs

/// Turns one op 5 JSON message into typed events (docs/protocol.md §11–13).
///
/// Tolerances, each from a real breaking change: `cmd` suffixes (`DANMU_MSG:4:0:2:2:2:0`) are stripped at the
/// first `:`; a missing top-level `cmd` is looked up in `msg.cmd`; ids may be numbers or strings; fields that
/// are absent, `null` or of the wrong type read as 0 / "" / nil rather than failing the message. Unknown
/// cmds become `.unknown(cmd, raw)` with the message's own JSON text — never dropped.
///
/// Only text that is not JSON at all (or nests deeper than `maxDepth`) throws; the caller counts it.
/// Each kind's cmds and field mapping live in the kind's own file (`EventKindCodec`); this type only dispatches.
public enum EventParser {
    /// Default nesting limit for message JSON (real messages nest ≤ 8).
    public static let maxDepth = 64

    /// Parses one message, appending its events (usually one; a `SEND_GIFT_V2` may hold several).
    ///
    /// The hot kinds, `DANMU_MSG` (~70 % of real traffic), `INTERACT_WORD` and `SEND_GIFT`, are read on demand
    /// (`DanmakuOnDemand`, `InteractOnDemand`, `GiftOnDemand`: one validating pass, no tape, no copy of the body);
    /// everything else, and any message those readers do not decide, takes the strict full parser (`parseFully`),
    /// with the same result.
    public static func parse(message bytes: UnsafeRawBufferPointer, into events: inout [DanmuEvent])
        throws(ProtocolError)
    {
        if let json = JSONOnDemand(bytes, maxDepth: maxDepth), let event = parseOnDemand(json) {
            events.append(event)
            return
        }
        try parseFully(message: bytes, into: &events)
    }

    /// The event of a message whose kind has an on-demand reader (`DANMU_MSG`, `INTERACT_WORD`, `SEND_GIFT`),
    /// when that reader decides it; nil sends the message to the strict path.
    static func parseOnDemand(_ json: JSONOnDemand) -> DanmuEvent? {
        guard let command = json.leadingCommand() else { return nil }
        let stripped = UnsafeBufferPointer(
            rebasing: command[..<(command.firstIndex(of: UInt8(ascii: ":")) ?? command.endIndex)])
        if stripped.elementsEqual("DANMU_MSG".utf8) {
            return DanmakuOnDemand.parse(json, cmd: "DANMU_MSG").map { .danmaku($0) }
        }
        if stripped.elementsEqual("INTERACT_WORD".utf8) { return InteractOnDemand.parse(json).map { .interact($0) } }
        if stripped.elementsEqual("SEND_GIFT".utf8) { return GiftOnDemand.parse(json).map { .gift($0) } }
        if stripped.elementsEqual("DANMU_MSG_MIRROR".utf8) {
            return DanmakuOnDemand.parse(json, cmd: "DANMU_MSG_MIRROR").map { .danmaku($0) }
        }
        return nil
    }

    /// The strict path for every kind: the whole message parsed and validated into a `JSONDocument`, then the
    /// kind's codec. The reference the on-demand reader is tested against.
    public static func parseFully(message bytes: UnsafeRawBufferPointer, into events: inout [DanmuEvent])
        throws(ProtocolError)
    {
        let document: JSONDocument
        do throws(JSONError) { document = try JSONDocument(parsing: bytes, maxDepth: maxDepth) } catch {
            throw .json(error.description)
        }
        parse(document.root, into: &events)
    }

    /// Parses one message from an array (the same two paths).
    public static func parse(message bytes: [UInt8], into events: inout [DanmuEvent]) throws(ProtocolError) {
        var thrown: ProtocolError?
        bytes.withUnsafeBytes { raw in
            do throws(ProtocolError) { try parse(message: raw, into: &events) } catch { thrown = error }
        }
        if let thrown { throw thrown }
    }

    /// `cmd` with the suffix stripped: `"DANMU_MSG:4:0:2:2:2:0"` → `"DANMU_MSG"`.
    public static func strippedCommand(_ cmd: String) -> String {
        guard let colon = cmd.utf8.firstIndex(of: UInt8(ascii: ":")) else { return cmd }
        return String(cmd[..<colon])
    }

    /// Dispatches a parsed message by cmd.
    public static func parse(_ root: JSONNode, into events: inout [DanmuEvent]) {
        let cmd = strippedCommand(root["cmd"]?.string ?? root["msg"]?["cmd"]?.string ?? "")
        if let codec = codecs[cmd], codec.parse(EventMessage(root: root, cmd: cmd, data: root["data"]), into: &events) {
            return
        }
        events.append(.unknown(cmd: cmd, raw: Array(root.rawBytes)))
    }

    /// cmd → the codec of its kind, from every `EventKind.codec`; built once, on first use (a `static let`
    /// is initialized exactly once, thread-safely), then only read.
    static let codecs: [String: any EventKindCodec.Type] = {
        var table: [String: any EventKindCodec.Type] = [:]
        for kind in EventKind.allCases {
            guard let codec = kind.codec else { continue }
            precondition(codec.kind == kind, "\(codec) is the codec of \(kind) but names \(codec.kind)")
            for command in codec.commands {
                precondition(table[command] == nil, "\(command) is claimed by \(table[command]!) and \(codec)")
                table[command] = codec
            }
        }
        return table
    }()
}

/// `.unknown`: a message whose cmd has no codec, or whose codec found nothing in it.
struct UnknownPayload: EventPayload {
    static var kind: EventKind { .unknown }
    let cmd: String
    /// The whole message object's JSON text.
    let raw: [UInt8]

    func writeJSONFields(into w: inout JSONWriter) {
        w.key(static: "raw")
        if raw.isEmpty {
            w.null()
        } else if raw.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            // Pretty-printed source: LF/CR/TAB can only be whitespace between tokens in valid JSON
            // (inside strings they must be escaped), so dropping them keeps the value and the one-line rule.
            w.raw(raw.lazy.filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        } else {
            w.raw(raw)
        }
    }

    var textLine: String { clean(cmd) + " (\(raw.count) bytes)" }
}
