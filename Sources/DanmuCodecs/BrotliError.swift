/// Why a brotli stream (RFC 7932) could not be decoded, and roughly where.
///
/// Every malformed, truncated or oversized input ends in one of these; the decoder never traps on input.
public struct BrotliError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong with the stream.
    public enum Reason: Equatable, Sendable {
        /// The input ended before the last meta-block was complete.
        case truncated
        /// The stream header announces a large window (the non-standard "large window brotli" extension).
        case largeWindowUnsupported
        /// A meta-block header is malformed (reserved bit set, superfluous zero nibble/byte, last block as metadata).
        case invalidMetaBlockHeader
        /// Padding bits before a byte boundary were not zero.
        case nonZeroPadding
        /// A prefix code is malformed: wrong symbol, repeated symbol, or its code lengths do not form a complete code.
        case invalidPrefixCode
        /// A context map is malformed (run length beyond its size, tree index out of range).
        case invalidContextMap
        /// A command's insert or copy length runs past the end of its meta-block.
        case invalidBlockLength
        /// A backward distance is zero or negative.
        case invalidDistance
        /// A static dictionary reference names a word length or transform that does not exist.
        case invalidDictionaryReference
        /// The decompressed output would exceed the caller's limit (the decoder stops before allocating more).
        case outputLimitExceeded(limit: Int)
        /// Bytes follow the last meta-block.
        case trailingData
    }

    /// What was wrong.
    public var reason: Reason
    /// Offset in the input (bytes) at which the problem was noticed.
    public var byteOffset: Int

    /// Creates an error; the decoder fills in the offset where it noticed the problem.
    public init(_ reason: Reason, byteOffset: Int) {
        self.reason = reason
        self.byteOffset = byteOffset
    }

    public var description: String {
        let what: String
        switch reason {
        case .truncated: what = "input ends before the last meta-block is complete"
        case .largeWindowUnsupported: what = "large-window brotli (non-standard WBITS > 24) is not supported"
        case .invalidMetaBlockHeader: what = "malformed meta-block header"
        case .nonZeroPadding: what = "non-zero padding bits before a byte boundary"
        case .invalidPrefixCode: what = "malformed prefix code"
        case .invalidContextMap: what = "malformed context map"
        case .invalidBlockLength: what = "command runs past the end of its meta-block"
        case .invalidDistance: what = "invalid backward distance"
        case .invalidDictionaryReference: what = "invalid static dictionary reference"
        case .outputLimitExceeded(let limit): what = "decompressed output would exceed the limit of \(limit) bytes"
        case .trailingData: what = "trailing bytes after the last meta-block"
        }
        return "brotli: \(what) (at input byte \(byteOffset))"
    }
}
