/// Everything that can be wrong with what a server sent. Any of these closes (and reconnects) the one
/// connection it came from; none of them is fatal to the process.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header declared a packet length below 16 (the header alone is 16).
    case lengthTooSmall(UInt32)
    /// A header's header-length field was not 16.
    case badHeaderLength(UInt16)
    /// A header declared a length above the decoder's cap.
    case lengthOverCap(UInt32, cap: Int)
    /// After a heartbeat reply, no plausible header was found within the resynchronisation budget.
    case lostSync(skipped: Int)
    /// A packet inside a decompressed batch ran past the end of the batch.
    case truncatedBatch(declared: Int, available: Int)
    /// Compressed batches nested deeper than the limit.
    case nestingTooDeep(Int)
    /// zlib (ver 2) body failed to inflate, or exceeded the output limit.
    case zlib(String)
    /// brotli (ver 3) body failed to decode, or exceeded the output limit.
    case brotli(String)
    /// A JSON body (op 5 ver 0, or op 8) could not be parsed.
    case json(String)
    /// A body was too short for its operation (op 3 needs 4 bytes).
    case shortBody(operation: Operation, count: Int)
    /// An HTTP status line (`HTTP/1.1 403 Forbidden`) came where a packet header was expected: a proxy or the
    /// server refused the connection in HTTP instead of speaking the protocol. `statusLine` is printable ASCII.
    case httpResponse(statusLine: String)

    public var description: String {
        switch self {
        case .lengthTooSmall(let n): return "packet length \(n) is below the 16-byte header"
        case .badHeaderLength(let n): return "header length \(n), expected 16"
        case .lengthOverCap(let n, let cap): return "packet length \(n) exceeds the cap of \(cap) bytes"
        case .lostSync(let skipped): return "lost packet sync: skipped \(skipped) bytes without finding a header"
        case .truncatedBatch(let declared, let available):
            return "inner packet declares \(declared) bytes but the batch has \(available) left"
        case .nestingTooDeep(let depth): return "compressed batches nested deeper than \(depth)"
        case .zlib(let why): return "zlib batch: \(why)"
        case .brotli(let why): return "brotli batch: \(why)"
        case .json(let why): return "JSON message: \(why)"
        case .shortBody(let op, let count): return "op \(op.rawValue) body of \(count) bytes is too short"
        case .httpResponse(let line):
            // "HTTP/1.1 403 Forbidden" → "403"; a line without a code still names itself.
            let parts = line.split(separator: " ", maxSplits: 2)
            let code = parts.count > 1 ? String(parts[1]) : "?"
            return "the server answered HTTP \(code) instead of the protocol: \(line)"
        }
    }
}
