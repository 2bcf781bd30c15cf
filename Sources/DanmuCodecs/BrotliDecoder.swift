/// One-shot RFC 7932 decoder: stream header, meta-block headers, context maps and prefix-code groups.
/// The command loop lives in BrotliCommandLoop.swift.
struct BrotliDecoder {
    var reader: BrotliBitReader
    var output: BrotliOutput
    /// (1 << WBITS) - 16: the largest backward distance that refers to earlier output.
    var maxBackwardDistance = 0
    /// The last four distances, most recent first (section 4), initially 4, 11, 15, 16.
    var lastDistances: (Int, Int, Int, Int) = (4, 11, 15, 16)

    init(input: UnsafeRawBufferPointer, base: UnsafeRawPointer, output: BrotliOutput) {
        reader = BrotliBitReader(base: base, count: input.count)
        self.output = output
    }

    /// A first guess of the output size from the stream and first meta-block headers: exact for the common
    /// single-meta-block stream, otherwise a generous multiple of the input. Never above `limit`.
    static func estimateOutputSize(base: UnsafeRawPointer, count: Int, limit: Int) -> Int {
        var reader = BrotliBitReader(base: base, count: count)
        let fallback = min(limit, max(4096, count * 8))
        if reader.flag() && reader.bits(3) == 0 { _ = reader.bits(3) }  // WBITS
        let isLast = reader.flag()
        if isLast && reader.flag() { return 0 }
        let nibbleCode = reader.bits(2)
        guard nibbleCode != 3 else { return fallback }
        let length = reader.bits(4 * (nibbleCode + 4)) + 1
        if reader.isOverrun || length > limit { return fallback }
        return isLast ? length : min(limit, max(fallback, length))
    }

    private func fail(_ reason: BrotliError.Reason) -> BrotliError {
        BrotliError(reader.isOverrun ? .truncated : reason, byteOffset: reader.byteOffset)
    }

    /// Decodes the whole stream into `output`.
    mutating func run() throws(BrotliError) {
        try readWindowSize()
        while true {
            let isLast = reader.flag()
            if isLast && reader.flag() { break }  // ISLASTEMPTY
            let nibbleCode = reader.bits(2)
            if nibbleCode == 3 {
                guard !isLast else { throw fail(.invalidMetaBlockHeader) }
                try skipMetadata()
                continue
            }
            let nibbles = nibbleCode + 4
            var length = 0
            for i in 0..<nibbles {
                let nibble = reader.bits(4)
                // A zero top nibble means the length could have been sent with fewer nibbles: forbidden.
                if i == nibbles - 1 && nibbles > 4 && nibble == 0 { throw fail(.invalidMetaBlockHeader) }
                length |= nibble << (4 * i)
            }
            length += 1
            if reader.isOverrun { throw fail(.truncated) }
            guard length <= output.limit - output.count else {
                throw BrotliError(.outputLimitExceeded(limit: output.limit), byteOffset: reader.byteOffset)
            }
            if !isLast && reader.flag() {
                try copyUncompressed(length: length)
            } else {
                try decodeCompressedMetaBlock(length: length)
            }
            if isLast { break }
        }
        guard reader.alignToByte() else { throw fail(.nonZeroPadding) }
        if reader.isOverrun { throw fail(.truncated) }
        if reader.detachAtByteBoundary() < reader.count {
            throw BrotliError(.trailingData, byteOffset: reader.byteOffset)
        }
    }

    /// WBITS (section 9.1): 10...24; the code for WBITS = 9 announces large-window brotli.
    private mutating func readWindowSize() throws(BrotliError) {
        var windowBits = 16
        if reader.flag() {
            let n = reader.bits(3)
            if n != 0 {
                windowBits = 17 + n
            } else {
                let m = reader.bits(3)
                if m == 1 { throw BrotliError(.largeWindowUnsupported, byteOffset: 0) }
                windowBits = m == 0 ? 17 : 8 + m
            }
        }
        maxBackwardDistance = (1 << windowBits) - 16
    }

    private mutating func skipMetadata() throws(BrotliError) {
        guard !reader.flag() else { throw fail(.invalidMetaBlockHeader) }  // reserved bit
        let skipBytes = reader.bits(2)
        var skipLength = 0
        for i in 0..<skipBytes {
            let byte = reader.bits(8)
            if i == skipBytes - 1 && skipBytes > 1 && byte == 0 { throw fail(.invalidMetaBlockHeader) }
            skipLength |= byte << (8 * i)
        }
        if skipBytes > 0 { skipLength += 1 }
        try skipToBytes(skipLength) { _, _ in }
    }

    private mutating func copyUncompressed(length: Int) throws(BrotliError) {
        try skipToBytes(length) { output, bytes in output.append(bytes, count: length) }
    }

    /// Aligns to a byte boundary, hands `length` input bytes to `body`, and continues after them.
    private mutating func skipToBytes(
        _ length: Int, _ body: (inout BrotliOutput, UnsafeRawPointer) -> Void
    ) throws(BrotliError) {
        guard reader.alignToByte() else { throw fail(.nonZeroPadding) }
        if reader.isOverrun { throw fail(.truncated) }
        let start = reader.detachAtByteBoundary()
        guard length <= reader.count - start else { throw BrotliError(.truncated, byteOffset: reader.count) }
        body(&output, reader.base + start)
        reader.restart(at: start + length)
    }

    /// A context map (section 7.3): `size` tree indices below `trees`, run-length and move-to-front coded.
    private mutating func readContextMap(size: Int, trees: Int) throws(BrotliError) -> [UInt8] {
        var map = [UInt8](repeating: 0, count: size)
        guard trees > 1 else { return map }
        let maxRunLengthPrefix = reader.flag() ? reader.bits(4) + 1 : 0
        var storage: [UInt32] = []
        _ = try BrotliHuffman.readCode(alphabetSize: trees + maxRunLengthPrefix, reader: &reader, storage: &storage)
        var i = 0
        var bad = false
        storage.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            while i < size {
                let symbol = reader.decodeSymbol(t)
                if symbol == 0 {
                    i += 1
                } else if symbol <= maxRunLengthPrefix {
                    let run = (1 << symbol) + reader.bits(symbol)
                    if run > size - i {
                        bad = true
                        return
                    }
                    i += run
                } else {
                    map[i] = UInt8(truncatingIfNeeded: symbol - maxRunLengthPrefix)
                    i += 1
                }
            }
        }
        if bad { throw fail(.invalidContextMap) }
        if reader.flag() {  // IMTF: inverse move-to-front transform
            var order = [UInt8](repeating: 0, count: 256)
            for k in 0..<256 { order[k] = UInt8(k) }
            for k in 0..<size {
                let index = Int(map[k])
                let value = order[index]
                map[k] = value
                if index > 0 {
                    for j in stride(from: index, to: 0, by: -1) { order[j] = order[j - 1] }
                    order[0] = value
                }
            }
        }
        for value in map where Int(value) >= trees { throw fail(.invalidContextMap) }
        return map
    }

    /// Reads a compressed meta-block's header (section 9.2) and runs its commands.
    private mutating func decodeCompressedMetaBlock(length: Int) throws(BrotliError) {
        var literals = try BrotliBlockSwitch(reader: &reader)
        var commands = try BrotliBlockSwitch(reader: &reader)
        var distances = try BrotliBlockSwitch(reader: &reader)
        let postfixBits = reader.bits(2)
        let directCodes = reader.bits(4) << postfixBits
        var contextModes = [Int](repeating: 0, count: literals.typeCount)
        for i in 0..<literals.typeCount { contextModes[i] = reader.bits(2) }
        if reader.isOverrun { throw fail(.truncated) }
        let literalTrees = BrotliBlockSwitch.readCount256(&reader)
        let literalMap = try readContextMap(size: 64 * literals.typeCount, trees: literalTrees)
        let distanceTrees = BrotliBlockSwitch.readCount256(&reader)
        let distanceMap = try readContextMap(size: 4 * distances.typeCount, trees: distanceTrees)
        if reader.isOverrun { throw fail(.truncated) }

        // All prefix codes of the meta-block in one arena, followed by the maps from (block type, context)
        // straight to table offsets, so the command loop needs a single base pointer.
        var arena = try BrotliHuffmanGroup(alphabetSize: 256, count: literalTrees, reader: &reader, into: [])
        let literalOffsets = arena.offsets
        arena = try BrotliHuffmanGroup(
            alphabetSize: 704, count: commands.typeCount, reader: &reader, into: arena.storage)
        let commandOffsets = arena.offsets
        let distanceAlphabet = 16 + directCodes + (48 << postfixBits)
        arena = try BrotliHuffmanGroup(
            alphabetSize: distanceAlphabet, count: distanceTrees, reader: &reader, into: arena.storage)
        let distanceOffsets = arena.offsets
        var storage = arena.storage
        let literalMapStart = storage.count
        for tree in literalMap { storage.append(UInt32(literalOffsets[Int(tree)])) }
        let commandMapStart = storage.count
        for offset in commandOffsets { storage.append(UInt32(offset)) }
        let distanceMapStart = storage.count
        for tree in distanceMap { storage.append(UInt32(distanceOffsets[Int(tree)])) }

        let layout = BrotliMetaBlockLayout(
            length: length, postfixBits: postfixBits, directCodes: directCodes, contextModes: contextModes,
            literalTrees: literalTrees,
            literalMapStart: literalMapStart, commandMapStart: commandMapStart, distanceMapStart: distanceMapStart)
        let failure = storage.withUnsafeBufferPointer { arenaPointer in
            runCommands(
                layout, arena: arenaPointer.baseAddress!, literals: &literals, commands: &commands,
                distances: &distances)
        }
        if let failure { throw fail(failure) }
        if reader.isOverrun { throw fail(.truncated) }
    }
}

/// What the command loop needs to know about a meta-block besides its block-switch state.
struct BrotliMetaBlockLayout {
    var length: Int
    var postfixBits: Int
    var directCodes: Int
    var contextModes: [Int]
    var literalTrees: Int
    var literalMapStart: Int
    var commandMapStart: Int
    var distanceMapStart: Int
}
