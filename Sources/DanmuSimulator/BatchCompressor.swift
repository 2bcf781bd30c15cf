/// The encoders for ver 2 / ver 3 batches, from DanmuCodecs.
enum BatchCompressor {
    /// Whether `compression` is really applied. Until the codec branches are merged, zlib and brotli fall back to
    /// plain packets (`Simulator` then sends ver 0 to every client).
    static func isAvailable(_ compression: Compression) -> Bool {
        compression == .none
    }

    static func compress(_ input: [UInt8], _ compression: Compression) -> [UInt8] {
        preconditionFailure("\(compression) is not available yet")
    }
}
