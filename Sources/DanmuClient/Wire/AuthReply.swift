import DanmuCodecs

/// The one parse of an AUTH_REPLY (op 8) body, `{"code":0}` (docs/protocol.md §6).
///
/// It runs once per connection, on the IO thread, where the session must decide at once whether the room is live
/// (the one JSON parse the IO thread does: a body of ~10 bytes per connection). The worker that turns the packet
/// into an `.authReply` event reads the same body with this same function (or takes `Frame.authReplyCode`), so
/// the two cannot disagree. Before, a byte scanner on the IO thread and the JSON reader on the worker disagreed
/// about a body without `code` (a rejection to one, a protocol error to the other).
enum AuthReply {
    /// The reply's integer `code`, or nil when the body is not a JSON object with an integer `code` (which the
    /// session treats as a rejection, and the decoder counts as a malformed message).
    static func code(_ body: UnsafeRawBufferPointer) -> Int? {
        guard let document = try? JSONDocument(parsing: body, maxDepth: 8),
            let code = document.root["code"]?.int64Lenient
        else { return nil }
        return Int(truncatingIfNeeded: code)
    }

    static func code(_ body: [UInt8]) -> Int? {
        body.withUnsafeBytes { code($0) }
    }
}
