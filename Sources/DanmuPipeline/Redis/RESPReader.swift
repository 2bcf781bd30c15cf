/// One RESP2 reply (redis.io "Redis serialization protocol specification").
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    /// nil: the null bulk string `$-1`.
    case bulkString([UInt8]?)
    /// nil: the null array `*-1`.
    case array([RESPValue]?)
}

/// Why a reply stream was refused. Any of these closes the connection: a reader that lost its place cannot
/// find the next reply.
public enum RESPError: Error, Equatable, CustomStringConvertible {
    case unknownType(UInt8)
    case badInteger
    case bulkTooLong(Int)
    case arrayTooLarge(Int)
    case nestedTooDeep(Int)
    case lineTooLong
    case missingCRLF

    public var description: String {
        switch self {
        case .unknownType(let byte): return "RESP: unknown type byte 0x\(String(byte, radix: 16))"
        case .badInteger: return "RESP: malformed length or integer"
        case .bulkTooLong(let n): return "RESP: bulk string of \(n) bytes is over the limit"
        case .arrayTooLarge(let n): return "RESP: array of \(n) elements is over the limit"
        case .nestedTooDeep(let n): return "RESP: arrays nested \(n) deep are over the limit"
        case .lineTooLong: return "RESP: a line without CRLF is over the limit"
        case .missingCRLF: return "RESP: bulk string not followed by CRLF"
        }
    }
}

/// An incremental RESP2 reply reader, fed any split of the byte stream; the model is hiredis' `read.c`.
///
/// Nested arrays are kept on an explicit stack (`frames`), never by recursion: a hostile server's
/// `*1\r\n*1\r\n*1\r\n…` costs one small frame per level up to `maxDepth`, then an error — not a stack overflow.
/// Limits are checked from each header, before anything is allocated for it: a bulk length over
/// `maxBulkLength` or an array count over `maxArrayCount` fails at once (no 512 MB reservation on a promise).
/// Scalars are parsed only when complete in the buffer, so "need more bytes" leaves no half-parsed state.
public struct RESPReader: Sendable {
    public struct Limits: Sendable {
        public var maxBulkLength = 16 << 20
        public var maxArrayCount = 1 << 20
        public var maxDepth = 32
        /// A simple string, error or header line must end within this many bytes.
        public var maxLineLength = 64 << 10
        public init() {}
    }

    private struct Frame: Sendable {
        var remaining: Int
        var items: [RESPValue]
    }

    public let limits: Limits
    /// false: a bulk string's bytes are skipped and it reads as `.bulkString([])` (null stays nil), for a
    /// caller that reads replies only for their shape and errors (no allocation per string).
    public var keepsBulkContent = true
    private var buffer: [UInt8] = []
    private var position = 0
    private var frames: [Frame] = []

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes held and not yet consumed.
    public var bufferedBytes: Int { buffer.count - position }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        feed(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count))
    }

    /// The next complete reply, nil when more bytes are needed.
    public mutating func next() throws(RESPError) -> RESPValue? {
        while true {
            guard var value = try scalarOrHeader() else { return nil }
            // Complete values climb the stack; arrays finish when their last element arrives.
            while true {
                guard !frames.isEmpty else { return value }
                frames[frames.count - 1].items.append(value)
                frames[frames.count - 1].remaining -= 1
                guard frames[frames.count - 1].remaining == 0 else { break }
                value = .array(frames.removeLast().items)
            }
        }
    }

    /// One complete scalar (or an empty / null array) — or, for a non-empty array header, a pushed frame and a
    /// loop back for its first element. nil: need more bytes.
    private mutating func scalarOrHeader() throws(RESPError) -> RESPValue? {
        while true {
            guard position < buffer.count else { return nil }
            let type = buffer[position]
            guard let (lineStart, lineEnd) = try line(from: position + 1) else { return nil }
            switch type {
            case UInt8(ascii: "+"):
                position = lineEnd + 2
                return .simpleString(simpleString(lineStart, lineEnd))
            case UInt8(ascii: "-"):
                position = lineEnd + 2
                return .error(String(decoding: buffer[lineStart..<lineEnd], as: UTF8.self))
            case UInt8(ascii: ":"):
                let value = try integer(lineStart, lineEnd)
                position = lineEnd + 2
                return .integer(value)
            case UInt8(ascii: "$"):
                let length = try integer(lineStart, lineEnd)
                if length == -1 {
                    position = lineEnd + 2
                    return .bulkString(nil)
                }
                guard length >= 0, length <= limits.maxBulkLength else { throw .bulkTooLong(Int(clamping: length)) }
                let start = lineEnd + 2
                let end = start + Int(length)
                guard end + 2 <= buffer.count else { return nil }
                guard buffer[end] == 13, buffer[end + 1] == 10 else { throw .missingCRLF }
                position = end + 2
                return .bulkString(keepsBulkContent ? Array(buffer[start..<end]) : [])
            case UInt8(ascii: "*"):
                let count = try integer(lineStart, lineEnd)
                position = lineEnd + 2
                if count == -1 { return .array(nil) }
                guard count >= 0, count <= limits.maxArrayCount else { throw .arrayTooLarge(Int(clamping: count)) }
                if count == 0 { return .array([]) }
                guard frames.count < limits.maxDepth else { throw .nestedTooDeep(frames.count + 1) }
                // Reserve by the count only up to a modest bound: the count is the peer's claim, not bytes seen.
                var items: [RESPValue] = []
                items.reserveCapacity(min(Int(count), 1024))
                frames.append(Frame(remaining: Int(count), items: items))
            default:
                throw .unknownType(type)
            }
        }
    }

    /// The text of a simple string; the two a transaction answers thousands of times are not decoded again.
    private func simpleString(_ start: Int, _ end: Int) -> String {
        let line = buffer[start..<end]
        if line.elementsEqual(Self.queued) { return "QUEUED" }
        if line.elementsEqual(Self.ok) { return "OK" }
        return String(decoding: line, as: UTF8.self)
    }
    private static let queued = Array("QUEUED".utf8)
    private static let ok = Array("OK".utf8)

    /// The line starting at `start`: its bounds without the CRLF; nil when the CRLF has not arrived.
    private func line(from start: Int) throws(RESPError) -> (Int, Int)? {
        var i = start
        let limit = min(buffer.count - 1, start + limits.maxLineLength)
        while i < limit {
            if buffer[i] == 13 && buffer[i + 1] == 10 { return (start, i) }
            i += 1
        }
        if buffer.count - start > limits.maxLineLength { throw .lineTooLong }
        return nil
    }

    /// A strict decimal: optional '-', 1–19 digits, no overflow.
    private func integer(_ start: Int, _ end: Int) throws(RESPError) -> Int64 {
        var i = start
        var negative = false
        if i < end, buffer[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < end, end - i <= 19 else { throw .badInteger }
        var value: Int64 = 0
        while i < end {
            let digit = buffer[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { throw .badInteger }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { throw .badInteger }
            value = sum
            i += 1
        }
        return negative ? -value : value
    }
}

/// Encodes commands as RESP arrays of bulk strings (what every Redis command is on the wire).
enum RESPCommand {
    static func append(_ arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(13)
        out.append(10)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            out.append(contentsOf: String(argument.count).utf8)
            out.append(13)
            out.append(10)
            out.append(contentsOf: argument)
            out.append(13)
            out.append(10)
        }
    }

    static func append(_ arguments: [String], to out: inout [UInt8]) {
        append(arguments.map { Array($0.utf8) }, to: &out)
    }

    // Piecewise encoding straight into the output buffer (the sink's hot path: no array of arguments, no String
    // per number).

    /// `*count\r\n`: an array of `count` bulk strings follows.
    static func appendArrayHeader(_ count: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(Int64(count), to: &out)
        out.append(13)
        out.append(10)
    }

    /// `$n\r\n<bytes>\r\n`.
    static func appendBulk(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        appendDecimal(Int64(bytes.count), to: &out)
        out.append(13)
        out.append(10)
        out.append(contentsOf: bytes)
        out.append(13)
        out.append(10)
    }

    static func appendBulk(_ bytes: [UInt8], to out: inout [UInt8]) {
        bytes.withUnsafeBytes { appendBulk($0, to: &out) }
    }

    static func appendBulk(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendBulk(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// The decimal text of `value` as a bulk string (`$2\r\n42\r\n`), optionally after `prefix` inside it.
    static func appendBulk(decimal value: Int64, after prefix: [UInt8] = [], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        appendDecimal(Int64(prefix.count + decimalLength(value)), to: &out)
        out.append(13)
        out.append(10)
        out.append(contentsOf: prefix)
        appendDecimal(value, to: &out)
        out.append(13)
        out.append(10)
    }

    static func decimalLength(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var length = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        }
    }
}
