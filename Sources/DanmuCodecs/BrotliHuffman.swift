/// Prefix codes of RFC 7932 section 3: reading their description and building decoding tables.
///
/// A table is a run of `UInt32` entries, `symbol << 16 | length`, inside a shared storage array. The first 256
/// entries are indexed by the next 8 input bits. A code longer than 8 bits goes through a link entry whose
/// length field is `8 + subBits` (> 8) and whose symbol field is the offset of a second-level table (relative
/// to the table start) indexed by the next `subBits` bits; entries there hold `length - 8`.
enum BrotliHuffman {
    static let rootBits = 8
    static let maxCodeLength = 15

    /// Order in which the code-length code lengths are transmitted (RFC 7932 section 3.5).
    private static let codeLengthOrder: [Int] = [1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    /// The fixed code for code-length code lengths, indexed by the next 4 bits: (bits used, value).
    private static let codeLengthPrefixLength: [UInt8] = [2, 2, 2, 3, 2, 2, 2, 4, 2, 2, 2, 3, 2, 2, 2, 4]
    private static let codeLengthPrefixValue: [UInt8] = [0, 4, 3, 2, 0, 4, 3, 1, 0, 4, 3, 2, 0, 4, 3, 5]

    /// Appends a table for a single symbol that takes no bits; returns its offset.
    static func appendSingleSymbolTable(_ symbol: Int, to storage: inout [UInt32]) -> Int {
        let start = storage.count
        storage.append(contentsOf: repeatElement(UInt32(symbol) << 16, count: 1 << rootBits))
        return start
    }

    /// Appends a table for `lengths` (0 = unused symbol), which must form a complete prefix code with
    /// lengths ≤ 15 (callers validate that); returns the table's offset in `storage`.
    static func appendTable(lengths: [UInt8], to storage: inout [UInt32]) -> Int {
        var nextCode = [Int](repeating: 0, count: maxCodeLength + 2)
        var count = [Int](repeating: 0, count: maxCodeLength + 1)
        for length in lengths where length != 0 { count[Int(length)] += 1 }
        var code = 0
        for length in 1...maxCodeLength {
            code = (code + count[length - 1]) << 1
            nextCode[length] = code
        }
        count[0] = 0
        let start = storage.count
        storage.append(contentsOf: repeatElement(0, count: 1 << rootBits))
        // Canonical codes, bit-reversed because brotli packs codes starting from their first bit at the LSB.
        var reversed = [UInt16](repeating: 0, count: lengths.count)
        var subBits = [UInt8](repeating: 0, count: 1 << rootBits)
        for symbol in lengths.indices where lengths[symbol] != 0 {
            let length = Int(lengths[symbol])
            var c = nextCode[length]
            nextCode[length] += 1
            var r = 0
            for _ in 0..<length {
                r = (r << 1) | (c & 1)
                c >>= 1
            }
            reversed[symbol] = UInt16(truncatingIfNeeded: r)
            if length > rootBits {
                let root = r & 0xFF
                subBits[root] = max(subBits[root], UInt8(length - rootBits))
            }
        }
        for root in 0..<(1 << rootBits) where subBits[root] != 0 {
            let bits = Int(subBits[root])
            storage[start + root] = UInt32(storage.count - start) << 16 | UInt32(rootBits + bits)
            storage.append(contentsOf: repeatElement(0, count: 1 << bits))
        }
        storage.withUnsafeMutableBufferPointer { table in
            for symbol in lengths.indices where lengths[symbol] != 0 {
                let length = Int(lengths[symbol])
                let r = Int(reversed[symbol])
                if length <= rootBits {
                    var i = r
                    while i < 1 << rootBits {
                        table[start + i] = UInt32(symbol) << 16 | UInt32(length)
                        i += 1 << length
                    }
                } else {
                    let link = table[start + (r & 0xFF)]
                    let sub = start + Int(link >> 16)
                    let size = 1 << (Int(link & 0xFFFF) - rootBits)
                    var i = r >> rootBits
                    while i < size {
                        table[sub + i] = UInt32(symbol) << 16 | UInt32(length - rootBits)
                        i += 1 << (length - rootBits)
                    }
                }
            }
        }
        return start
    }

    /// Reads one prefix code description for an alphabet of `alphabetSize` symbols (section 3.4/3.5) and
    /// appends its decoding table to `storage`; returns the table offset.
    static func readCode(
        alphabetSize: Int, reader: inout BrotliBitReader, storage: inout [UInt32]
    ) throws(BrotliError) -> Int {
        let hskip = reader.bits(2)
        if hskip == 1 {
            return try readSimpleCode(alphabetSize: alphabetSize, reader: &reader, storage: &storage)
        }
        // Complex code: first the lengths of the code-length code, stopping once their Kraft sum is full.
        var codeLengthLengths = [UInt8](repeating: 0, count: 18)
        var space = 32
        var used = 0
        for i in hskip..<18 {
            if reader.bitCount < 4 { reader.refill() }
            let peek = Int(truncatingIfNeeded: reader.accumulator & 0xF)
            let value = codeLengthPrefixValue[peek]
            _ = reader.bits(Int(codeLengthPrefixLength[peek]))
            codeLengthLengths[codeLengthOrder[i]] = value
            if value != 0 {
                space -= 32 >> Int(value)
                used += 1
                if space <= 0 { break }
            }
        }
        guard used == 1 || space == 0 else { throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset) }
        var codeLengthTable: [UInt32] = []
        if used == 1 {
            let only = codeLengthLengths.firstIndex { $0 != 0 } ?? 0
            _ = appendSingleSymbolTable(only, to: &codeLengthTable)
        } else {
            _ = appendTable(lengths: codeLengthLengths, to: &codeLengthTable)
        }
        // Then the symbol code lengths, with repeat codes 16 (previous non-zero length) and 17 (zeros).
        var lengths = [UInt8](repeating: 0, count: alphabetSize)
        var symbol = 0
        var previousLength = 8
        var repeatCount = 0
        var repeatLength = 0
        var kraft = 32768
        codeLengthTable.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            while symbol < alphabetSize && kraft > 0 {
                let c = reader.decodeSymbol(t)
                if c < 16 {
                    repeatCount = 0
                    lengths[symbol] = UInt8(c)
                    if c != 0 {
                        previousLength = c
                        kraft -= 32768 >> c
                    }
                    symbol += 1
                    continue
                }
                let extraBits = c == 16 ? 2 : 3
                let newLength = c == 16 ? previousLength : 0
                if repeatLength != newLength {
                    repeatCount = 0
                    repeatLength = newLength
                }
                let oldRepeat = repeatCount
                if repeatCount > 0 { repeatCount = (repeatCount - 2) << extraBits }
                repeatCount += reader.bits(extraBits) + 3
                let delta = repeatCount - oldRepeat
                if delta > alphabetSize - symbol {
                    kraft = -1  // reported below
                    return
                }
                for i in symbol..<(symbol + delta) { lengths[i] = UInt8(repeatLength) }
                symbol += delta
                if repeatLength != 0 { kraft -= delta * (32768 >> repeatLength) }
            }
        }
        guard kraft == 0 else { throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset) }
        return appendTable(lengths: lengths, to: &storage)
    }

    private static func readSimpleCode(
        alphabetSize: Int, reader: inout BrotliBitReader, storage: inout [UInt32]
    ) throws(BrotliError) -> Int {
        let symbolCount = reader.bits(2) + 1
        var alphabetBits = 0
        while (1 << alphabetBits) < alphabetSize { alphabetBits += 1 }
        var symbols = [Int](repeating: 0, count: 4)
        for i in 0..<symbolCount {
            let s = reader.bits(alphabetBits)
            guard s < alphabetSize else { throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset) }
            for j in 0..<i where symbols[j] == s {
                throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset)
            }
            symbols[i] = s
        }
        if symbolCount == 1 { return appendSingleSymbolTable(symbols[0], to: &storage) }
        // Code lengths by count (section 3.4); canonical ordering then sorts equal lengths by symbol value.
        var codeLengths: [UInt8]
        switch symbolCount {
        case 2: codeLengths = [1, 1]
        case 3: codeLengths = [1, 2, 2]
        default: codeLengths = reader.flag() ? [1, 2, 3, 3] : [2, 2, 2, 2]
        }
        var lengths = [UInt8](repeating: 0, count: alphabetSize)
        for i in 0..<symbolCount { lengths[symbols[i]] = codeLengths[i] }
        return appendTable(lengths: lengths, to: &storage)
    }
}

/// `count` prefix codes over one alphabet, stored back to back (RFC 7932 section 7: literal, insert-and-copy
/// and distance "tree groups").
struct BrotliHuffmanGroup {
    var storage: [UInt32] = []
    var offsets: [Int] = []

    init() {}

    /// Reads `count` codes, appending their tables to `existing` (offsets are relative to its start).
    init(
        alphabetSize: Int, count: Int, reader: inout BrotliBitReader, into existing: [UInt32]
    ) throws(BrotliError) {
        storage = existing
        storage.reserveCapacity(storage.count + count * 300)
        offsets.reserveCapacity(count)
        for _ in 0..<count {
            offsets.append(try BrotliHuffman.readCode(alphabetSize: alphabetSize, reader: &reader, storage: &storage))
            // Zero-filled truncated input could otherwise make us build up to 256 trees from nothing.
            if reader.isOverrun { throw BrotliError(.truncated, byteOffset: reader.byteOffset) }
        }
    }
}
