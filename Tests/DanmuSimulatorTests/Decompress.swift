@testable import DanmuSimulator

/// Opens a ver 2 / ver 3 batch body. Replaced by the DanmuCodecs decoders once they are merged.
func decompress(_ body: [UInt8], protover: UInt16) throws -> [UInt8] {
    throw TestClientError.badBatch("no decoder for ver \(protover) yet")
}
