// The inflate state machine (RFC 1950 wrapper + RFC 1951 blocks), shared by the one-shot and streaming APIs.
//
// It decodes in units that are atomic with respect to input: the zlib header, a block header (with a whole dynamic
// Huffman header), a piece of a stored block, one Huffman symbol, the trailer. When the input ends inside a unit the
// engine rewinds to the unit's start and reports `needInput`; the streaming wrapper keeps the unconsumed tail (at
// most a few hundred bytes) and retries with more. So no unit ever commits output derived from bits past the end.

/// Which framing the compressed bytes use.
public enum InflateFormat: Sendable, Equatable {
    /// RFC 1950: 2-byte header, deflate data, Adler-32 of the output.
    case zlib
    /// RFC 1951 raw deflate data, no header or checksum.
    case raw
}

struct InflateEngine {
    enum Phase {
        case zlibHeader
        case blockHeader
        case stored(remaining: Int)
        case huffman
        case trailer
        case done
    }

    enum Outcome: Equatable {
        /// All input up to `consumedBits` was used; decoding continues with more input.
        case needInput
        /// The stream ended. `trailer` is the Adler-32 from the stream, nil for raw deflate or a stream that ended
        /// at a sync-flush point without a checksum.
        case finished(trailer: UInt32?)
    }

    let format: InflateFormat
    private(set) var phase: Phase
    private var isFinalBlock = false
    /// Just after a non-final empty stored block (`00 00 ff ff`, a sync flush): the stream may legally end here.
    private(set) var atSyncPoint = false
    private var tablesAreFixed = false
    private(set) var tables = InflateTables()

    init(format: InflateFormat) {
        self.format = format
        self.phase = format == .zlib ? .zlibHeader : .blockHeader
    }

    /// An independent copy (the decode tables are deep-copied), for `Inflater`'s copy-on-write.
    func copy() -> InflateEngine {
        var clone = self
        clone.tables = tables.copy()
        return clone
    }

    var isDone: Bool {
        if case .done = phase { return true }
        return false
    }

    /// Decodes as far as `input` allows.
    ///
    /// - Parameters:
    ///   - startBit: first unconsumed bit of `input` (the previous call stopped mid-byte).
    ///   - isLastInput: no more input will come: running out is `.truncated`, a sync-flush end is accepted.
    ///   - baseOffset: stream offset of `input[0]`, for error messages.
    /// - Returns: bits of `input` consumed (the end of the last whole unit) and why decoding stopped.
    mutating func run(
        _ input: UnsafeRawBufferPointer, startBit: Int, isLastInput: Bool, baseOffset: Int,
        output: inout InflateOutputBuffer
    ) throws(InflateError) -> (consumedBits: Int, outcome: Outcome) {
        var reader = InflateBitReader(input, startBit: startBit)
        while true {
            let unitStart = reader
            // Leaves `reader` at the unit start; at the true end of input that is a truncated stream.
            func suspend() throws(InflateError) -> (consumedBits: Int, outcome: Outcome) {
                if isLastInput { throw InflateError(.truncated, offset: baseOffset + input.count) }
                return (unitStart.consumedBits, .needInput)
            }
            let unitOffset = baseOffset + unitStart.consumedBits / 8
            switch phase {
            case .zlibHeader:
                reader.refill()
                let cmf = reader.take(8)
                let flg = reader.take(8)
                if reader.isOverrun { return try suspend() }
                guard cmf & 0x0F == 8, cmf >> 4 <= 7, (cmf << 8 | flg) % 31 == 0 else {
                    throw InflateError(.badZlibHeader, offset: unitOffset)
                }
                guard flg & 0x20 == 0 else { throw InflateError(.presetDictionaryUnsupported, offset: unitOffset) }
                phase = .blockHeader

            case .blockHeader:
                if atSyncPoint, reader.bitCount == 0 {
                    // Byte-aligned right after `00 00 ff ff`: the live server may end the stream here, with or
                    // without the Adler-32. Four more bytes at the very end are taken as that checksum.
                    let remaining = reader.count - reader.pos
                    if !isLastInput && remaining < 5 && format == .zlib { return (unitStart.consumedBits, .needInput) }
                    if isLastInput && remaining == 0 {
                        phase = .done
                        return (unitStart.consumedBits, .finished(trailer: nil))
                    }
                    if isLastInput && remaining == 4 && format == .zlib {
                        let adler = UInt32(
                            bigEndian: UnsafeRawPointer(reader.base + reader.pos)
                                .loadUnaligned(as: UInt32.self))
                        phase = .done
                        return ((reader.pos + 4) * 8, .finished(trailer: adler))
                    }
                }
                reader.refill()
                let header = reader.take(3)
                let isFinal = header & 1 == 1
                switch header >> 1 {
                case 0:
                    reader.alignToByte()
                    reader.refill()
                    let length = reader.take(16)
                    let complement = reader.take(16)
                    if reader.isOverrun { return try suspend() }
                    guard length == ~complement & 0xFFFF else {
                        throw InflateError(.storedLengthMismatch, offset: unitOffset)
                    }
                    reader.rewindToByteBoundary()
                    isFinalBlock = isFinal
                    atSyncPoint = length == 0 && !isFinal
                    phase = .stored(remaining: Int(length))
                case 1:
                    if reader.isOverrun { return try suspend() }
                    if !tablesAreFixed {
                        tables.installFixed()
                        tablesAreFixed = true
                    }
                    isFinalBlock = isFinal
                    atSyncPoint = false
                    phase = .huffman
                case 2:
                    do {
                        try readDynamicHeader(&reader)
                    } catch {
                        if reader.isOverrun { return try suspend() }
                        throw InflateError(error.reason, offset: unitOffset)
                    }
                    if reader.isOverrun { return try suspend() }
                    tablesAreFixed = false
                    isFinalBlock = isFinal
                    atSyncPoint = false
                    phase = .huffman
                default:
                    if reader.isOverrun { return try suspend() }
                    throw InflateError(.invalidBlockType, offset: unitOffset)
                }

            case .stored(let remaining):
                // The reader is byte-aligned with an empty bit buffer here (see rewindToByteBoundary).
                let available = reader.count - reader.pos
                let n = min(remaining, available)
                if n > 0 {
                    try output.reserve(n)
                    output.append(reader.base + reader.pos, count: n)
                    reader.pos += n
                }
                if remaining > n {
                    phase = .stored(remaining: remaining - n)
                    if isLastInput { throw InflateError(.truncated, offset: baseOffset + input.count) }
                    return (reader.consumedBits, .needInput)
                }
                endBlock()

            case .huffman:
                let finished = try decodeHuffmanBlock(&reader, output: &output, baseOffset: baseOffset)
                if !finished {
                    if isLastInput { throw InflateError(.truncated, offset: baseOffset + input.count) }
                    return (reader.consumedBits, .needInput)
                }
                endBlock()
                if case .done = phase { return (reader.consumedBits, .finished(trailer: nil)) }

            case .trailer:
                reader.alignToByte()
                reader.refill()
                let adler = reader.take(32).byteSwapped
                if reader.isOverrun { return try suspend() }
                phase = .done
                return (reader.consumedBits, .finished(trailer: adler))

            case .done:
                return (unitStart.consumedBits, .finished(trailer: nil))
            }
        }
    }

    private mutating func endBlock() {
        if !isFinalBlock {
            phase = .blockHeader
        } else {
            phase = format == .zlib ? .trailer : .done
        }
    }

    /// Reads HLIT/HDIST/HCLEN, the code-length code and the run-length coded lengths, and builds both tables.
    /// Errors thrown here may be artefacts of reading past the end; the caller checks `isOverrun` first.
    private func readDynamicHeader(_ reader: inout InflateBitReader) throws(InflateError) {
        reader.refill()
        let litLenCount = Int(reader.take(5)) + 257
        let distCount = Int(reader.take(5)) + 1
        let codeLengthCount = Int(reader.take(4)) + 4
        guard litLenCount <= 286, distCount <= 30 else { throw InflateError(.invalidCodeLengths) }
        let lengths = tables.lengths
        lengths.update(repeating: 0, count: 19)
        for index in 0..<codeLengthCount {
            if reader.bitCount < 3 { reader.refill() }
            lengths[Int(Self.codeLengthOrder[index])] = UInt8(reader.take(3))
        }
        try tables.build(
            first: 0, count: 19, symbols: InflateEntry.codeLengthSymbolPointer,
            primaryBits: InflateEntry.codeLengthPrimaryBits, into: tables.codeLength,
            capacity: InflateEntry.codeLengthCapacity, allowSingleShortCode: false)
        let total = litLenCount + distCount
        let codeLengthTable = tables.codeLength
        var index = 0
        while index < total {
            if reader.bitCount < 14 { reader.refill() }
            let entry = codeLengthTable[Int(reader.bits & 0x7F)]
            reader.consume(Int(entry & 0x1F))
            guard entry & InflateEntry.kindMask == InflateEntry.literal else { throw InflateError(.invalidCodeLengths) }
            let symbol = entry >> 16
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            let value: UInt8
            let repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw InflateError(.invalidCodeLengths) }
                value = lengths[index - 1]
                repeatCount = 3 + Int(reader.take(2))
            case 17:
                value = 0
                repeatCount = 3 + Int(reader.take(3))
            default:
                value = 0
                repeatCount = 11 + Int(reader.take(7))
            }
            guard index + repeatCount <= total else { throw InflateError(.invalidCodeLengths) }
            (lengths + index).update(repeating: value, count: repeatCount)
            index += repeatCount
        }
        guard lengths[256] != 0 else { throw InflateError(.missingEndOfBlock) }
        try tables.build(
            first: 0, count: litLenCount, symbols: InflateEntry.litLenSymbolPointer,
            primaryBits: InflateEntry.litLenPrimaryBits, into: tables.litLen,
            capacity: InflateEntry.litLenCapacity, allowSingleShortCode: true)
        try tables.build(
            first: litLenCount, count: distCount, symbols: InflateEntry.distSymbolPointer,
            primaryBits: InflateEntry.distPrimaryBits, into: tables.dist,
            capacity: InflateEntry.distCapacity, allowSingleShortCode: true)
    }

    private static let codeLengthOrder: [UInt8] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
}
