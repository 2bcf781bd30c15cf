import DanmuCodecs

/// The encoders for ver 2 / ver 3 batches, from DanmuCodecs.
enum BatchCompressor {
    /// Whether `compression` can be produced. Until the zlib encoder is merged, zlib clients get plain packets.
    static func isAvailable(_ compression: Compression) -> Bool {
        compression != .zlib
    }

    /// The batch body: a brotli stream of uncompressed meta-blocks (what the live server sends for small
    /// batches, first byte 0x0b/0x8b — PROTOCOL.md §4.2).
    static func compress(_ input: [UInt8], _ compression: Compression) -> [UInt8] {
        switch compression {
        case .brotli: Brotli.compressUncompressed(input)
        case .zlib, .none: preconditionFailure("\(compression) is not a batch encoding here")
        }
    }
}
