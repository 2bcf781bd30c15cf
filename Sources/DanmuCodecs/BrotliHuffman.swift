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

    /// Appends a table for a complete prefix code with lengths ≤ 15 (callers validate completeness) and
    /// returns its offset in `storage`. `symbols` lists the `symbolCount` symbols of non-zero length in
    /// increasing order; `count[n]` is how many have length n.
    static func appendTable(
        lengths: UnsafePointer<UInt8>, symbols: UnsafePointer<UInt16>, symbolCount: Int,
        count: UnsafePointer<Int>, to storage: inout [UInt32]
    ) -> Int {
        let start = storage.count
        // Scratch on the stack: 16 next codes, 256 sub-table sizes, one reversed code per used symbol.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 16 + (1 << rootBits) + symbolCount) { scratch in
            let nextCode = scratch.baseAddress!
            let subBits = nextCode + 16
            let reversed = subBits + (1 << rootBits)
            nextCode.initialize(repeating: 0, count: 16 + (1 << rootBits))
            var code = 0
            for length in 1...maxCodeLength {
                code = (code + (length > 1 ? count[length - 1] : 0)) << 1
                nextCode[length] = code
            }
            // Canonical codes, bit-reversed: brotli packs a code's first bit at the LSB.
            for k in 0..<symbolCount {
                let length = Int(lengths[Int(symbols[k])])
                let c = nextCode[length]
                nextCode[length] = c + 1
                let r = Int(reverseByte[c & 0xFF]) << 8 | Int(reverseByte[(c >> 8) & 0xFF])
                let rev = r >> (16 - length)
                reversed[k] = rev
                if length > rootBits {
                    let root = rev & 0xFF
                    subBits[root] = max(subBits[root], length - rootBits)
                }
            }
            var size = 1 << rootBits
            if count[9] + count[10] + count[11] + count[12] + count[13] + count[14] + count[15] > 0 {
                for root in 0..<(1 << rootBits) where subBits[root] != 0 { size += 1 << subBits[root] }
            }
            storage.append(contentsOf: repeatElement(0, count: size))
            storage.withUnsafeMutableBufferPointer { table in
                let t = table.baseAddress! + start
                if size > 1 << rootBits {
                    var next = 1 << rootBits
                    for root in 0..<(1 << rootBits) where subBits[root] != 0 {
                        t[root] = UInt32(next) << 16 | UInt32(rootBits + subBits[root])
                        next += 1 << subBits[root]
                    }
                }
                for k in 0..<symbolCount {
                    let symbol = Int(symbols[k])
                    let length = Int(lengths[symbol])
                    let r = reversed[k]
                    if length <= rootBits {
                        let entry = UInt32(symbol) << 16 | UInt32(length)
                        var i = r
                        while i < 1 << rootBits {
                            t[i] = entry
                            i += 1 << length
                        }
                    } else {
                        let link = t[r & 0xFF]
                        let sub = t + Int(link >> 16)
                        let size = 1 << (Int(link & 0xFFFF) - rootBits)
                        let entry = UInt32(symbol) << 16 | UInt32(length - rootBits)
                        var i = r >> rootBits
                        while i < size {
                            sub[i] = entry
                            i += 1 << (length - rootBits)
                        }
                    }
                }
            }
        }
        return start
    }

    /// Bit-reversed bytes, for turning canonical codes into brotli's LSB-first order.
    private static let reverseByte: [UInt8] = (0..<256).map { (byte: Int) -> UInt8 in
        var r = 0
        for bit in 0..<8 where byte & (1 << bit) != 0 { r |= 0x80 >> bit }
        return UInt8(r)
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
        // Scratch on the stack: a 32-entry table for the code-length code, 16 length counters, 18 code-length
        // code lengths plus the symbol lengths, and the list of used symbols.
        let offset = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 32) { codeLengthTable in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { count in
                withUnsafeTemporaryAllocation(of: UInt16.self, capacity: alphabetSize) { symbols in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 18 + alphabetSize) { scratch in
                        let codeLengthLengths = scratch.baseAddress!
                        let lengths = codeLengthLengths + 18
                        codeLengthLengths.initialize(repeating: 0, count: 18 + alphabetSize)
                        count.baseAddress!.initialize(repeating: 0, count: 16)
                        guard
                            readCodeLengthCode(
                                hskip: hskip, reader: &reader, lengths: codeLengthLengths,
                                table: codeLengthTable.baseAddress!)
                        else { return -1 }
                        let used = readSymbolLengths(
                            alphabetSize: alphabetSize, reader: &reader, lengths: lengths,
                            symbols: symbols.baseAddress!, count: count.baseAddress!,
                            codeLengthTable: codeLengthTable.baseAddress!)
                        guard used > 0 else { return -1 }
                        return appendTable(
                            lengths: lengths, symbols: symbols.baseAddress!, symbolCount: used,
                            count: count.baseAddress!, to: &storage)
                    }
                }
            }
        }
        guard offset >= 0 else { throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset) }
        return offset
    }

    /// The code-length code (section 3.5): its lengths, read until their Kraft sum is full, and a 5-bit table.
    private static func readCodeLengthCode(
        hskip: Int, reader: inout BrotliBitReader, lengths: UnsafeMutablePointer<UInt8>,
        table: UnsafeMutablePointer<UInt32>
    ) -> Bool {
        var space = 32
        var used = 0
        var only = 0
        for i in hskip..<18 {
            if reader.bitCount < 4 { reader.refill() }
            let peek = Int(truncatingIfNeeded: reader.accumulator & 0xF)
            let value = codeLengthPrefixValue[peek]
            _ = reader.bits(Int(codeLengthPrefixLength[peek]))
            lengths[codeLengthOrder[i]] = value
            if value != 0 {
                only = codeLengthOrder[i]
                space -= 32 >> Int(value)
                used += 1
                if space <= 0 { break }
            }
        }
        if used == 1 {  // a single code length symbol takes no bits
            table.initialize(repeating: UInt32(only) << 16, count: 32)
            return true
        }
        guard space == 0 else { return false }
        var count = (0, 0, 0, 0, 0, 0)
        for symbol in 0..<18 {
            switch lengths[symbol] {
            case 1: count.1 += 1
            case 2: count.2 += 1
            case 3: count.3 += 1
            case 4: count.4 += 1
            case 5: count.5 += 1
            default: break
            }
        }
        var nextCode = (0, 0, 0, 0, 0, 0)
        nextCode.2 = (nextCode.1 + count.1) << 1
        nextCode.3 = (nextCode.2 + count.2) << 1
        nextCode.4 = (nextCode.3 + count.3) << 1
        nextCode.5 = (nextCode.4 + count.4) << 1
        for symbol in 0..<18 {
            let length = Int(lengths[symbol])
            guard length != 0 else { continue }
            var code: Int
            switch length {
            case 1: code = nextCode.1; nextCode.1 += 1
            case 2: code = nextCode.2; nextCode.2 += 1
            case 3: code = nextCode.3; nextCode.3 += 1
            case 4: code = nextCode.4; nextCode.4 += 1
            default: code = nextCode.5; nextCode.5 += 1
            }
            var i = Int(reverseByte[code]) >> (8 - length)
            while i < 32 {
                table[i] = UInt32(symbol) << 16 | UInt32(length)
                i += 1 << length
            }
        }
        return true
    }

    /// Symbol code lengths with repeat codes 16 (previous non-zero length) and 17 (zeros). Fills `lengths`,
    /// the list of used `symbols` and the per-length `count`; returns how many symbols are used, or 0 unless
    /// the lengths form a complete code.
    private static func readSymbolLengths(
        alphabetSize: Int, reader: inout BrotliBitReader, lengths: UnsafeMutablePointer<UInt8>,
        symbols: UnsafeMutablePointer<UInt16>, count: UnsafeMutablePointer<Int>,
        codeLengthTable t: UnsafePointer<UInt32>
    ) -> Int {
        var symbol = 0
        var used = 0
        var previousLength = 8
        var repeatCount = 0
        var repeatLength = 0
        var kraft = 32768
        while symbol < alphabetSize && kraft > 0 {
            if reader.bitCount < 5 { reader.refill() }
            let entry = t[Int(truncatingIfNeeded: reader.accumulator & 31)]
            _ = reader.bits(Int(entry & 0xFFFF))
            let c = Int(entry >> 16)
            if c < 16 {
                repeatCount = 0
                if c != 0 {
                    lengths[symbol] = UInt8(c)
                    symbols[used] = UInt16(symbol)
                    used += 1
                    count[c] += 1
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
            guard delta <= alphabetSize - symbol else { return 0 }
            if repeatLength != 0 {
                (lengths + symbol).update(repeating: UInt8(repeatLength), count: delta)
                for k in 0..<delta { symbols[used + k] = UInt16(symbol + k) }
                used += delta
                count[repeatLength] += delta
                kraft -= delta * (32768 >> repeatLength)
            }
            symbol += delta
        }
        return kraft == 0 ? used : 0
    }

    private static func readSimpleCode(
        alphabetSize: Int, reader: inout BrotliBitReader, storage: inout [UInt32]
    ) throws(BrotliError) -> Int {
        let symbolCount = reader.bits(2) + 1
        var alphabetBits = 0
        while (1 << alphabetBits) < alphabetSize { alphabetBits += 1 }
        var symbols = (0, 0, 0, 0)
        for i in 0..<symbolCount {
            let s = reader.bits(alphabetBits)
            guard s < alphabetSize, s != symbols.0 || i == 0, s != symbols.1 || i < 2, s != symbols.2 || i < 3 else {
                throw BrotliError(.invalidPrefixCode, byteOffset: reader.byteOffset)
            }
            switch i {
            case 0: symbols.0 = s
            case 1: symbols.1 = s
            case 2: symbols.2 = s
            default: symbols.3 = s
            }
        }
        if symbolCount == 1 { return appendSingleSymbolTable(symbols.0, to: &storage) }
        // Code lengths by count (section 3.4); within one length, codes go to symbols in increasing order.
        var entries: [(length: Int, symbol: Int)]
        switch symbolCount {
        case 2: entries = [(1, symbols.0), (1, symbols.1)]
        case 3: entries = [(1, symbols.0), (2, symbols.1), (2, symbols.2)]
        default:
            entries =
                reader.flag()
                ? [(1, symbols.0), (2, symbols.1), (3, symbols.2), (3, symbols.3)]
                : [(2, symbols.0), (2, symbols.1), (2, symbols.2), (2, symbols.3)]
        }
        entries.sort { $0.length != $1.length ? $0.length < $1.length : $0.symbol < $1.symbol }
        let start = storage.count
        storage.append(contentsOf: repeatElement(0, count: 1 << rootBits))
        var code = 0
        var previousLength = entries[0].length
        for (k, entry) in entries.enumerated() {
            if k > 0 { code = (code + 1) << (entry.length - previousLength) }
            previousLength = entry.length
            var i = Int(reverseByte[code]) >> (8 - entry.length)
            while i < 1 << rootBits {
                storage[start + i] = UInt32(entry.symbol) << 16 | UInt32(entry.length)
                i += 1 << entry.length
            }
        }
        return start
    }
}

/// `count` prefix codes over one alphabet, stored back to back (RFC 7932 section 7: literal, insert-and-copy
/// and distance "tree groups").
struct BrotliHuffmanGroup {
    var storage: [UInt32] = []
    var offsets: [Int] = []

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
