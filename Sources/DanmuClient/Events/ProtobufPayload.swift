import DanmuCodecs

/// The protobuf carried by some cmds: base64 in `data.pb` (docs/protocol.md §11.2; field numbers from BDM
/// `models/pb.py`). The kinds that use it (`INTERACT_WORD_V2` in Interact.swift, `SEND_GIFT_V2` in Gift.swift)
/// read their fields with these helpers. A payload that does not decode yields nil, so the message is
/// delivered as `.unknown` with its raw JSON rather than dropped.
enum ProtobufPayload {
    /// base64 text → top-level fields; nil when either layer is malformed.
    static func decode(_ node: JSONNode?) -> [ProtobufField]? {
        guard let text = node?.string, !text.isEmpty, let bytes = try? Base64.decode(text) else { return nil }
        return collect(bytes[...])
    }

    /// All fields of one (embedded) message; nil when it is malformed.
    static func collect(_ bytes: ArraySlice<UInt8>) -> [ProtobufField]? {
        var reader = ProtobufReader(bytes)
        var fields: [ProtobufField] = []
        do throws(ProtobufError) {
            while let field = try reader.next() { fields.append(field) }
        } catch {
            return nil
        }
        return fields
    }

    // Field accessors kept out of line: swiftc 6.3.1 -O crashed ("Found ownership error") when the
    // ProtobufField computed properties were inlined into the kinds' switch loops.
    @inline(never) static func int(_ field: ProtobufField) -> Int64 {
        if case .varint(let v) = field.value { return Int64(bitPattern: v) }
        return 0
    }

    @inline(never) static func bytes(_ field: ProtobufField) -> ArraySlice<UInt8>? {
        if case .lengthDelimited(let b) = field.value { return b }
        return nil
    }

    @inline(never) static func text(_ field: ProtobufField) -> String {
        guard case .lengthDelimited(let b) = field.value else { return "" }
        return String(validating: b, as: UTF8.self) ?? String(decoding: b, as: UTF8.self)
    }

    /// An embedded medal message; the field numbers differ between messages, so the caller names them.
    /// `lighted` absent means lighted (proto3 omits a default, and the web page treats a missing flag as 1).
    /// nil when absent or empty (no name, level 0).
    static func medal(
        _ field: ProtobufField, name: Int, level: Int, roomID: Int, targetID: Int, lighted: Int, guardLevel: Int
    ) -> Medal? {
        guard let fields = bytes(field).flatMap(collect) else { return nil }
        var medalName = "", medalLevel = 0, anchorRoomID: Int64 = 0, anchorUID: Int64 = 0
        var isLighted = true, medalGuard = 0
        for field in fields {
            switch field.number {
            case name: medalName = text(field)
            case level: medalLevel = Int(int(field))
            case roomID: anchorRoomID = int(field)
            case targetID: anchorUID = int(field)
            case lighted: isLighted = int(field) != 0
            case guardLevel: medalGuard = Int(int(field))
            default: break
            }
        }
        if medalName.isEmpty && medalLevel == 0 { return nil }
        return Medal(
            name: medalName, level: medalLevel, anchorRoomID: anchorRoomID, anchorUID: anchorUID,
            guardLevel: medalGuard, isLighted: isLighted)
    }
}
