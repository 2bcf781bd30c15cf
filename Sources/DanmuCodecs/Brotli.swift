/// Brotli (RFC 7932) decompression in pure Swift, plus the trivial "uncompressed meta-blocks" encoder that
/// the simulator uses to produce protover-3 bodies.
///
/// Bilibili sends `protover = 3` message bodies as one brotli stream each; small live batches are often a
/// single uncompressed meta-block (first byte `0x0b` or `0x8b`), larger ones use every feature of the format.
public enum Brotli {
    /// Decompresses one complete brotli stream.
    ///
    /// - Parameters:
    ///   - input: the whole stream; trailing bytes after the last meta-block are an error.
    ///   - limit: the most output bytes accepted. A stream that announces more fails with
    ///     `.outputLimitExceeded` before the decoder allocates beyond the limit (a "bomb" costs nothing).
    /// - Throws: `BrotliError` for every malformed, truncated, unsupported (large-window) or oversized stream.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int = 16 << 20) throws(BrotliError)
        -> [UInt8]
    {
        guard let base = input.baseAddress, input.count > 0 else { throw BrotliError(.truncated, byteOffset: 0) }
        let limit = max(0, limit)
        let capacity = BrotliDecoder.estimateOutputSize(base: base, count: input.count, limit: limit)
        var failure: BrotliError?
        var spilled: BrotliOutput?
        // Decode straight into the result's storage; see BrotliOutput for the rare case it is outgrown.
        let result = [UInt8](unsafeUninitializedCapacity: capacity + BrotliOutput.slack) { buffer, initialized in
            let output = BrotliOutput(borrowing: buffer.baseAddress!, capacity: capacity, limit: limit)
            var decoder = BrotliDecoder(input: input, base: base, output: output)
            initialized = 0
            do throws(BrotliError) {
                try decoder.run()
            } catch {
                decoder.output.discard()
                failure = error
                return
            }
            if decoder.output.ownsBase {
                spilled = decoder.output
            } else {
                initialized = decoder.output.count
            }
        }
        if let failure { throw failure }
        if let spilled { return spilled.finishOwned() }
        return result
    }

    /// Decompresses one complete brotli stream held in an array. See `decompress(_:limit:)`.
    public static func decompress(_ input: [UInt8], limit: Int = 16 << 20) throws(BrotliError) -> [UInt8] {
        let result: Result<[UInt8], BrotliError> = input.withUnsafeBytes { raw in
            do throws(BrotliError) {
                return .success(try decompress(raw, limit: limit))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Encodes `input` as a valid brotli stream made of uncompressed meta-blocks (no compression at all).
    ///
    /// Window bits are 22, like the reference encoder's default, so the first byte is `0x0b` or `0x8b` as in
    /// the server's own small batches. Inputs above 16 MiB are split into several meta-blocks.
    public static func compressUncompressed(_ input: [UInt8]) -> [UInt8] {
        let maxChunk = 1 << 24  // MLEN is at most 2^24
        var writer = BrotliBitWriter()
        writer.reserve(input.count + 8 + input.count / maxChunk * 8)
        writer.write(0b1011, bits: 4)  // WBITS = 22: "1" then n = 5 in 3 bits
        var start = 0
        while start < input.count {
            let length = min(maxChunk, input.count - start)
            writer.write(0, bits: 1)  // ISLAST = 0
            var nibbles = 4
            while nibbles < 6 && (length - 1) >> (4 * nibbles) != 0 { nibbles += 1 }
            writer.write(nibbles - 4, bits: 2)
            writer.write(length - 1, bits: 4 * nibbles)
            writer.write(1, bits: 1)  // ISUNCOMPRESSED
            writer.alignToByte()
            writer.append(input[start..<(start + length)])
            start += length
        }
        writer.write(0b11, bits: 2)  // ISLAST = 1, ISLASTEMPTY = 1
        writer.alignToByte()
        return writer.bytes
    }
}

/// LSB-first bit writer for `Brotli.compressUncompressed`.
struct BrotliBitWriter {
    private(set) var bytes: [UInt8] = []
    private var pending: UInt64 = 0
    private var pendingBits = 0

    mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends the low `count` bits of `value` (count ≤ 32).
    mutating func write(_ value: Int, bits count: Int) {
        pending |= (UInt64(truncatingIfNeeded: value) & ((1 << UInt64(count)) - 1)) << UInt64(pendingBits)
        pendingBits += count
        while pendingBits >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: pending))
            pending >>= 8
            pendingBits -= 8
        }
    }

    /// Pads with zero bits up to the next byte boundary.
    mutating func alignToByte() {
        if pendingBits > 0 { write(0, bits: 8 - pendingBits) }
    }

    /// Appends whole bytes; the writer must be byte-aligned.
    mutating func append(_ slice: ArraySlice<UInt8>) {
        precondition(pendingBits == 0, "BrotliBitWriter.append needs byte alignment")
        bytes.append(contentsOf: slice)
    }
}
