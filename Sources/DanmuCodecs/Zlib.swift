/// One-shot zlib (RFC 1950) decompression and compression.
///
/// Decompression accepts what the Bilibili server sends: complete streams, and streams that stop right after a
/// sync flush (`00 00 ff ff`) with or without the Adler-32 after it. The checksum is verified whenever present.
public enum Zlib {
    /// The default output limit: 16 MiB.
    public static let defaultLimit = 16 << 20

    /// Decompresses one complete zlib stream.
    ///
    /// - Parameter limit: maximum output size; larger output throws `InflateError.outputLimitExceeded` before more
    ///   than `limit` bytes are allocated.
    /// - Throws: `InflateError` for any malformed, truncated or oversized stream, or bytes after its end.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int = defaultLimit) throws(InflateError)
        -> [UInt8]
    {
        try InflateOneShot.decompress(input, format: .zlib, limit: limit)
    }

    /// Decompresses one complete zlib stream and calls `body` with the output, which lives only for the call: no
    /// array is made of it (issue 11: the copy into the result array was a memcpy and an allocation per frame).
    public static func withDecompressed<R>(
        _ input: UnsafeRawBufferPointer, limit: Int = defaultLimit, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(InflateError) -> R {
        try InflateOneShot.decompress(input, format: .zlib, limit: limit, body)
    }

    /// Decompresses one complete zlib stream. See `decompress(_:limit:)` for an unsafe buffer.
    public static func decompress(_ input: [UInt8], limit: Int = defaultLimit) throws(InflateError) -> [UInt8] {
        try withInflateBytes(input) { (buffer) throws(InflateError) in
            try InflateOneShot.decompress(buffer, format: .zlib, limit: limit)
        }
    }

    /// Compresses `input` into a complete zlib stream (header, one or more deflate blocks, Adler-32).
    ///
    /// - Parameter mode: `.stored` (no compression) or `.fixedHuffman` (greedy LZ77 with fixed codes).
    public static func compress(_ input: [UInt8], mode: DeflateMode = .fixedHuffman) -> [UInt8] {
        // CMF 0x78: deflate, 32 KiB window. FLG: level hint (0 fastest for stored, 1 fast otherwise) + FCHECK.
        let cmf: UInt8 = 0x78
        let levelBits: UInt8 = mode == .stored ? 0x00 : 0x40
        let check = UInt8(31 - (UInt16(cmf) << 8 | UInt16(levelBits)) % 31)
        var output: [UInt8] = [cmf, levelBits | (check == 31 ? 0 : check)]
        output.reserveCapacity(input.count + input.count / 8 + 64)
        DeflateEncoder.encode(input, mode: mode, into: &output)
        let adler = ZlibAdler32.checksum(input)
        output.append(UInt8(truncatingIfNeeded: adler >> 24))
        output.append(UInt8(truncatingIfNeeded: adler >> 16))
        output.append(UInt8(truncatingIfNeeded: adler >> 8))
        output.append(UInt8(truncatingIfNeeded: adler))
        return output
    }
}

/// Raw deflate (RFC 1951): no header, no checksum.
public enum Deflate {
    /// Decompresses one complete raw deflate stream (or one that ends at a sync-flush point).
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int = Zlib.defaultLimit)
        throws(InflateError) -> [UInt8]
    {
        try InflateOneShot.decompress(input, format: .raw, limit: limit)
    }

    /// Decompresses one complete raw deflate stream.
    public static func decompress(_ input: [UInt8], limit: Int = Zlib.defaultLimit) throws(InflateError) -> [UInt8] {
        try withInflateBytes(input) { (buffer) throws(InflateError) in
            try InflateOneShot.decompress(buffer, format: .raw, limit: limit)
        }
    }

    /// Compresses `input` into raw deflate blocks (the last one final).
    public static func compress(_ input: [UInt8], mode: DeflateMode = .fixedHuffman) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 8 + 16)
        DeflateEncoder.encode(input, mode: mode, into: &output)
        return output
    }
}

/// The one-shot path: decode straight into one growing buffer, no history copying.
enum InflateOneShot {
    static func decompress(_ input: UnsafeRawBufferPointer, format: InflateFormat, limit: Int) throws(InflateError)
        -> [UInt8]
    {
        try decompress(input, format: format, limit: limit) { Array($0) }
    }

    /// Inflates `input` and hands the output to `body` before the buffer is freed.
    static func decompress<R>(
        _ input: UnsafeRawBufferPointer, format: InflateFormat, limit: Int, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(InflateError) -> R {
        var engine = InflateEngine(format: format)
        let limit = max(0, limit)
        // Danmaku JSON inflates about 3-8× (a batch of near-identical messages more); start at 8× so a typical
        // frame needs no realloc (each one copied the output so far: 3 % of a zlib flood). Untouched capacity
        // costs no memory, and the buffer never grows past the limit.
        var output = InflateOutputBuffer(initialCapacity: input.count * 8 + 4096, maxCapacity: limit)
        defer { output.release() }
        let (consumedBits, outcome) = try engine.run(
            input, startBit: 0, isLastInput: true, baseOffset: 0, output: &output)
        guard case .finished(let trailer) = outcome else { throw InflateError(.truncated, offset: input.count) }
        let consumedBytes = (consumedBits + 7) / 8
        guard consumedBytes == input.count else { throw InflateError(.trailingData, offset: consumedBytes) }
        let bytes = UnsafeRawBufferPointer(start: output.base, count: output.count)
        if let trailer {
            var adler = ZlibAdler32()
            adler.update(bytes)
            guard adler.value == trailer else { throw InflateError(.checksumMismatch, offset: consumedBytes - 4) }
        }
        return body(bytes)
    }
}

/// `Array.withUnsafeBytes` for typed-throwing bodies (the standard one only rethrows untyped errors).
@inline(__always)
func withInflateBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(InflateError) -> R)
    throws(InflateError) -> R
{
    let result = array.withUnsafeBytes { buffer in Result { () throws(InflateError) -> R in try body(buffer) } }
    return try result.get()
}
