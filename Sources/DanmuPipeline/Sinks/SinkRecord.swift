import DanmuClient
import DanmuCodecs

/// One event as every sink takes it: encoded once on the room's worker (the JSON Lines text and the typed
/// columns), then shared by all sinks, kept in memory queues and written to spool files as bytes.
public struct SinkRecord: Sendable, Equatable {
    public var room: Int64
    /// Unix nanoseconds at which the IO thread read the bytes (`RoomEvent.receivedAt`).
    public var receivedAt: Int64
    /// `EventKind` raw value.
    public var kind: String
    public var cmd: String
    public var idStr: String?
    public var uid: Int64?
    public var uname: String?
    public var text: String?
    /// Popularity / watched / online-rank count for the kinds that carry one.
    public var count: Int64?
    /// The JSON Lines object (docs/json-lines.md), without the trailing newline.
    public var json: [UInt8]

    public init(
        room: Int64, receivedAt: Int64, kind: String, cmd: String, idStr: String? = nil, uid: Int64? = nil,
        uname: String? = nil, text: String? = nil, count: Int64? = nil, json: [UInt8]
    ) {
        self.room = room
        self.receivedAt = receivedAt
        self.kind = kind
        self.cmd = cmd
        self.idStr = idStr
        self.uid = uid
        self.uname = uname
        self.text = text
        self.count = count
        self.json = json
    }

    public init(_ event: RoomEvent, writer: inout JSONWriter) {
        writer.reset()
        writeJSONLine(room: event.room, receivedAt: event.receivedAt, event: event.event, into: &writer)
        var json = writer.bytes
        if json.last == UInt8(ascii: "\n") { json.removeLast() }
        var idStr: String?
        if case .danmaku(let d) = event.event { idStr = d.idStr }
        self.init(
            room: event.room, receivedAt: event.receivedAt, kind: event.event.kind.rawValue, cmd: event.event.cmd,
            idStr: idStr, uid: EventFields.uid(of: event.event), uname: EventFields.uname(of: event.event),
            text: EventFields.text(of: event.event), count: EventFields.roomCount(of: event.event), json: json)
    }

    /// Bytes held in memory, for the sink's memory budget (an estimate: payload plus a fixed overhead).
    var footprint: Int {
        96 + kind.utf8.count + cmd.utf8.count + (idStr?.utf8.count ?? 0) + (uname?.utf8.count ?? 0)
            + (text?.utf8.count ?? 0) + json.count
    }
}

/// The spool's payload format of one record: fixed-width little-endian integers, then length-prefixed strings,
/// a presence byte before each optional. Version byte first so a later format can be told apart.
extension SinkRecord {
    static let encodingVersion: UInt8 = 1

    func encode(into out: inout [UInt8]) {
        out.append(Self.encodingVersion)
        Self.put(room, &out)
        Self.put(receivedAt, &out)
        Self.put(kind, &out)
        Self.put(cmd, &out)
        Self.put(optional: idStr, &out)
        Self.put(optional: uid, &out)
        Self.put(optional: uname, &out)
        Self.put(optional: text, &out)
        Self.put(optional: count, &out)
        Self.put(UInt32(json.count), &out)
        out.append(contentsOf: json)
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> SinkRecord? {
        var reader = ByteReader(bytes: bytes)
        guard reader.byte() == encodingVersion,
            let room = reader.int64(), let receivedAt = reader.int64(),
            let kind = reader.string(), let cmd = reader.string(),
            let idStr = reader.optional({ $0.string() }), let uid = reader.optional({ $0.int64() }),
            let uname = reader.optional({ $0.string() }), let text = reader.optional({ $0.string() }),
            let count = reader.optional({ $0.int64() }), let json = reader.blob(), reader.atEnd
        else { return nil }
        return SinkRecord(
            room: room, receivedAt: receivedAt, kind: kind, cmd: cmd, idStr: idStr, uid: uid, uname: uname,
            text: text, count: count, json: json)
    }

    private static func put(_ value: Int64, _ out: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }
    private static func put(_ value: UInt32, _ out: inout [UInt8]) {
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }
    private static func put(_ value: String, _ out: inout [UInt8]) {
        put(UInt32(value.utf8.count), &out)
        out.append(contentsOf: value.utf8)
    }
    private static func put(optional value: String?, _ out: inout [UInt8]) {
        if let value {
            out.append(1)
            put(value, &out)
        } else {
            out.append(0)
        }
    }
    private static func put(optional value: Int64?, _ out: inout [UInt8]) {
        if let value {
            out.append(1)
            put(value, &out)
        } else {
            out.append(0)
        }
    }
}

/// Bounds-checked reads over a spool payload: every read returns nil past the end, never traps.
struct ByteReader {
    var bytes: ArraySlice<UInt8>
    var atEnd: Bool { bytes.isEmpty }

    mutating func byte() -> UInt8? { bytes.popFirst() }

    mutating func uint32() -> UInt32? {
        guard bytes.count >= 4 else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[bytes.startIndex + i]) << (8 * UInt32(i)) }
        bytes = bytes.dropFirst(4)
        return value
    }

    mutating func int64() -> Int64? {
        guard bytes.count >= 8 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        bytes = bytes.dropFirst(8)
        return Int64(bitPattern: value)
    }

    mutating func blob() -> [UInt8]? {
        guard let length = uint32(), bytes.count >= Int(length) else { return nil }
        let value = Array(bytes.prefix(Int(length)))
        bytes = bytes.dropFirst(Int(length))
        return value
    }

    mutating func string() -> String? { blob().map { String(decoding: $0, as: UTF8.self) } }

    /// `.some(nil)` for an absent value, nil for a malformed one.
    mutating func optional<T>(_ read: (inout ByteReader) -> T?) -> T?? {
        switch byte() {
        case 0: return .some(nil)
        case 1: return read(&self).map { .some($0) } ?? nil
        default: return nil
        }
    }
}
