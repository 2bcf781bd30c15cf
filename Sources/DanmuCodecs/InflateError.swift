/// Why a zlib (RFC 1950) or raw deflate (RFC 1951) stream could not be decoded.
///
/// Every decoding failure is one of these values; the decoder never traps on bad input. `offset` is the byte offset
/// in the compressed input (counted from the first byte ever fed) where the failing unit started, when known.
public struct InflateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// The two-byte zlib header is malformed (method not 8, window over 32 KiB, or `FCHECK` wrong).
        case badZlibHeader
        /// The zlib header asks for a preset dictionary (`FDICT`), which this protocol never uses.
        case presetDictionaryUnsupported
        /// Block type 3 (reserved).
        case invalidBlockType
        /// A stored block whose `NLEN` is not the complement of `LEN`.
        case storedLengthMismatch
        /// A dynamic block header declares too many symbols, repeats a length with no previous one, or overflows.
        case invalidCodeLengths
        /// A set of code lengths that over-subscribes or (where not allowed) under-subscribes the code space.
        case invalidHuffmanCode
        /// The literal/length code has no code for end-of-block (symbol 256).
        case missingEndOfBlock
        /// A bit pattern that is not a code, or decodes to a reserved symbol (286, 287, distance 30, 31).
        case invalidSymbol
        /// A back-reference reaching before the start of the output.
        case distanceTooFarBack
        /// The input ended before the stream was complete.
        case truncated
        /// The Adler-32 trailer does not match the decompressed bytes.
        case checksumMismatch
        /// Bytes follow the end of the stream.
        case trailingData
        /// The output would grow past the configured limit (a decompression bomb or a misconfigured limit).
        case outputLimitExceeded
    }

    /// What went wrong.
    public var reason: Reason
    /// Byte offset in the compressed input, when known.
    public var offset: Int?

    public init(_ reason: Reason, offset: Int? = nil) {
        self.reason = reason
        self.offset = offset
    }

    /// The error thrown when decoding would exceed the output limit. It never carries an offset, so it compares
    /// equal to every limit error.
    public static let outputLimitExceeded = InflateError(.outputLimitExceeded)

    public var description: String {
        let what: String
        switch reason {
        case .badZlibHeader: what = "bad zlib header"
        case .presetDictionaryUnsupported: what = "zlib preset dictionary not supported"
        case .invalidBlockType: what = "invalid deflate block type 3"
        case .storedLengthMismatch: what = "stored block length does not match its complement"
        case .invalidCodeLengths: what = "invalid code lengths in dynamic block header"
        case .invalidHuffmanCode: what = "over- or under-subscribed Huffman code"
        case .missingEndOfBlock: what = "literal/length code lacks end-of-block"
        case .invalidSymbol: what = "invalid Huffman code or reserved symbol"
        case .distanceTooFarBack: what = "back-reference distance exceeds output"
        case .truncated: what = "compressed stream is truncated"
        case .checksumMismatch: what = "Adler-32 checksum mismatch"
        case .trailingData: what = "data after end of compressed stream"
        case .outputLimitExceeded: what = "decompressed size exceeds limit"
        }
        if let offset { return "inflate: \(what) at byte \(offset)" }
        return "inflate: \(what)"
    }
}
