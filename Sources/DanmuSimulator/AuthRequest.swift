import DanmuCodecs

/// The parts of an op 7 AUTH body the simulator checks (docs/protocol.md §7).
struct AuthRequest: Equatable, Sendable {
    var roomID: Int64
    /// 0 (plain) when absent.
    var protover: Int
    var uid: Int64
    var key: String?

    /// Why an AUTH was refused. The live server answers a failed auth with nothing and closes (docs/protocol.md §7),
    /// and so does the simulator; the reason only goes to statistics and tests.
    enum Rejection: Error, Equatable, Sendable {
        case notJSON(JSONError)
        case notAnObject
        case missingRoomID
        case unsupportedProtover(Int, room: Int64)
        case wrongKey(room: Int64)
    }

    /// Parses and validates `body`: valid JSON object, integer `roomid`, `protover` 0/1/2/3 (absent = 0), and
    /// `key` equal to `requiredKey` when one is configured.
    static func parse(_ body: [UInt8], requiredKey: String?) -> Result<AuthRequest, Rejection> {
        let document: JSONDocument
        do throws(JSONError) {
            document = try JSONDocument(parsing: body, maxDepth: 8)
        } catch {
            return .failure(.notJSON(error))
        }
        let root = document.root
        guard root.kind == .object else { return .failure(.notAnObject) }
        guard let roomID = root["roomid"]?.int64 else { return .failure(.missingRoomID) }
        var protover = 0
        if let node = root["protover"] {
            guard let value = node.int64, let supported = Int(exactly: value), Compression(protover: supported) != nil
            else { return .failure(.unsupportedProtover(Int(truncatingIfNeeded: node.int64 ?? -1), room: roomID)) }
            protover = supported
        }
        let key = root["key"]?.string
        if let requiredKey, key != requiredKey { return .failure(.wrongKey(room: roomID)) }
        return .success(AuthRequest(roomID: roomID, protover: protover, uid: root["uid"]?.int64 ?? 0, key: key))
    }
}
