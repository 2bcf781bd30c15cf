import DanmuCodecs

/// The JSON body of the op 7 AUTH packet (docs/protocol.md §7):
/// `{"uid":…,"roomid":…,"protover":3,"platform":"web","type":2,"key":"…","buvid":"…"}`.
///
/// - `uid` 0 is a guest: names get masked and messages sampled (§7).
/// - `roomID` must be the long room id.
/// - `protover` 3 (brotli, default) or 2 (zlib); 0/1 no longer receive business messages.
/// - `key` is the getDanmuInfo token ("" when connecting key-less to broadcastlv).
/// - `buvid` is the buvid3 cookie; without it the server samples messages heavily (2026-01).
public struct AuthBody: Sendable, Equatable {
    public var uid: Int64
    public var roomID: Int64
    public var protover: Int
    public var platform: String
    public var type: Int
    public var key: String
    public var buvid: String

    public init(
        uid: Int64 = 0, roomID: Int64, protover: Int = 3, platform: String = "web", type: Int = 2,
        key: String, buvid: String
    ) {
        self.uid = uid
        self.roomID = roomID
        self.protover = protover
        self.platform = platform
        self.type = type
        self.key = key
        self.buvid = buvid
    }

    /// The UTF-8 JSON text, keys in the order browsers send them.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + key.utf8.count + buvid.utf8.count)
        out.append(contentsOf: "{\"uid\":\(uid),\"roomid\":\(roomID),\"protover\":\(protover),\"platform\":".utf8)
        AuthBody.appendQuoted(platform, to: &out)
        out.append(contentsOf: ",\"type\":\(type),\"key\":".utf8)
        AuthBody.appendQuoted(key, to: &out)
        out.append(contentsOf: ",\"buvid\":".utf8)
        AuthBody.appendQuoted(buvid, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses an AUTH body as a server (the simulator) receives it. `uid`, `roomid` may be numbers or strings;
    /// missing `protover` means 0, missing `platform`/`key`/`buvid` mean "", missing `type` 0. Only `roomid` is
    /// required. Unknown fields (`clientver`, `support_ack`, …) are ignored.
    public init(parsing bytes: [UInt8]) throws(ProtocolError) {
        let document: JSONDocument
        do throws(JSONError) { document = try JSONDocument(parsing: bytes, maxDepth: 8) } catch {
            throw .json(error.description)
        }
        let root = document.root
        guard root.kind == .object else { throw .json("auth body is not an object") }
        guard let room = root["roomid"]?.int64Lenient else { throw .json("auth body has no roomid") }
        self.init(
            uid: root["uid"]?.int64Lenient ?? 0, roomID: room,
            protover: Int(root["protover"]?.int64Lenient ?? 0),
            platform: root["platform"]?.string ?? "", type: Int(root["type"]?.int64Lenient ?? 0),
            key: root["key"]?.string ?? "", buvid: root["buvid"]?.string ?? "")
    }

    /// JSON string literal with the escapes RFC 8259 requires (quote, backslash, control characters).
    static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
