import DanmuCodecs

/// The decompressors behind ver 2 / ver 3 batches, mapped to `ProtocolError`.
extension MessageDecoder {
    static func decodeBrotli(_ body: UnsafeRawBufferPointer, limit: Int) throws(ProtocolError) -> [UInt8] {
        do throws(BrotliError) { return try Brotli.decompress(body, limit: limit) } catch {
            throw .brotli(error.description)
        }
    }

    static func inflateZlib(_ body: UnsafeRawBufferPointer, limit: Int) throws(ProtocolError) -> [UInt8] {
        do throws(InflateError) { return try Zlib.decompress(body, limit: limit) } catch {
            throw .zlib(error.description)
        }
    }

    static func withInflatedZlib(
        _ body: UnsafeRawBufferPointer, limit: Int, _ walk: (UnsafeRawBufferPointer) -> Void
    ) throws(ProtocolError) {
        do throws(InflateError) { try Zlib.withDecompressed(body, limit: limit, walk) } catch {
            throw .zlib(error.description)
        }
    }
}
