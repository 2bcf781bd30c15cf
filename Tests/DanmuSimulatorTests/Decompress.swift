import DanmuCodecs
@testable import DanmuSimulator

/// Opens a ver 2 / ver 3 batch body with the DanmuCodecs decoders.
func decompress(_ body: [UInt8], protover: UInt16) throws -> [UInt8] {
    switch protover {
    case 2: return try Zlib.decompress(body)
    case 3: return try Brotli.decompress(body)
    default: throw TestClientError.badBatch("no decoder for ver \(protover) yet")
    }
}
