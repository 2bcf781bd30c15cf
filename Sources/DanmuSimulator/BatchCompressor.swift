import DanmuCodecs

/// The encoders for ver 2 / ver 3 batches, from DanmuCodecs.
enum BatchCompressor {
    /// The body of a ver 2 or ver 3 batch:
    /// - zlib: RFC 1950 stream with LZ77 + fixed Huffman codes (`Zlib.compress(_:mode: .fixedHuffman)`);
    /// - brotli: a stream of uncompressed meta-blocks, which is what the live server sends for small batches
    ///   (first byte 0x0b/0x8b — docs/protocol.md §4.2).
    static func compress(_ input: [UInt8], _ compression: Compression) -> [UInt8] {
        switch compression {
        case .zlib: Zlib.compress(input, mode: .fixedHuffman)
        case .brotli: Brotli.compressUncompressed(input)
        case .none: preconditionFailure("plain messages are not a batch encoding")
        }
    }
}
