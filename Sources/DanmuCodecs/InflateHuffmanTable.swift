// Table-driven canonical Huffman decoding for inflate (RFC 1951 §3.2.2).
//
// A decode table is an array of 32-bit entries indexed by the next `primaryBits` input bits (deflate sends codes
// MSB-first inside an LSB-first bit stream, so indices are bit-reversed codes). Codes longer than the primary width
// go through one second-level subtable per primary prefix, like zlib's inflate_table and libdeflate.
//
// Entry layout:
//   bits 0...4   number of input bits the code occupies (for subtable pointers: the primary width)
//   bits 8...11  extra bits that follow the code (lengths, distances); for subtable pointers: the subtable width
//   bits 12...14 kind (see `InflateEntry`)
//   bits 16...31 value: the literal byte, the length/distance base, or the subtable start index

/// Constants and helpers for decode-table entries.
enum InflateEntry {
    static let kindMask: UInt32 = 0x7000
    static let literal: UInt32 = 0x0000
    static let base: UInt32 = 0x1000
    static let endOfBlock: UInt32 = 0x2000
    static let subtable: UInt32 = 0x3000
    static let invalid: UInt32 = 0x4000

    static let litLenPrimaryBits = 10
    static let distPrimaryBits = 8
    static let codeLengthPrimaryBits = 7
    // Capacities include room for subtables. zlib proves 1334 (lit/len, 10-bit root) and 402 (dist, 8-bit root)
    // suffice for complete codes; the builder still checks the bound on every subtable, so odd input cannot overflow.
    static let litLenCapacity = 2048
    static let distCapacity = 1024
    static let codeLengthCapacity = 128

    /// Kind, value and extra bits for literal/length symbols 0...287 (286 and 287 are reserved: invalid).
    static let litLenSymbols: [UInt32] = {
        let lengthBase: [UInt32] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
            35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
        ]
        let lengthExtra: [UInt32] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
            3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ]
        var table = [UInt32](repeating: invalid, count: 288)
        for symbol in 0..<256 { table[symbol] = literal | UInt32(symbol) << 16 }
        table[256] = endOfBlock
        for index in 0..<29 { table[257 + index] = base | lengthBase[index] << 16 | lengthExtra[index] << 8 }
        return table
    }()

    /// Kind, base and extra bits for distance symbols 0...31 (30 and 31 are reserved: invalid).
    static let distSymbols: [UInt32] = {
        var table = [UInt32](repeating: invalid, count: 32)
        for symbol in 0..<30 {
            let extra = symbol < 4 ? 0 : symbol / 2 - 1
            let start = symbol < 4 ? symbol + 1 : (2 + symbol % 2) << extra + 1
            table[symbol] = base | UInt32(start) << 16 | UInt32(extra) << 8
        }
        return table
    }()

    /// Code-length alphabet symbols 0...18: the symbol itself as a literal-kind value.
    static let codeLengthSymbols: [UInt32] = (0..<19).map { literal | UInt32($0) << 16 }

    // The same three tables as immutable process-lifetime memory, so the table builder can take plain pointers.
    // Written once during lazy initialisation, read-only afterwards.
    nonisolated(unsafe) static let litLenSymbolPointer = permanentCopy(litLenSymbols)
    nonisolated(unsafe) static let distSymbolPointer = permanentCopy(distSymbols)
    nonisolated(unsafe) static let codeLengthSymbolPointer = permanentCopy(codeLengthSymbols)

    private static func permanentCopy(_ values: [UInt32]) -> UnsafePointer<UInt32> {
        let pointer = UnsafeMutablePointer<UInt32>.allocate(capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        return UnsafePointer(pointer)
    }
}

/// Scratch memory and the current decode tables of one inflater; reused across blocks and streams.
final class InflateTables {
    // One allocation carved into every table and scratch array (issue 11: nine separate ones were most of the
    // allocations of a zlib frame). Widest element first, so each part stays aligned.
    private let memory: UnsafeMutableRawPointer
    let litLen: UnsafeMutablePointer<UInt32>
    let dist: UnsafeMutablePointer<UInt32>
    let codeLength: UnsafeMutablePointer<UInt32>
    /// Code lengths of the block being set up: lit/len lengths followed by distance lengths.
    let lengths: UnsafeMutablePointer<UInt8>
    let sorted: UnsafeMutablePointer<UInt16>
    let codes: UnsafeMutablePointer<UInt16>
    // Per-length scratch of the table builder (index 0...15).
    private let counts: UnsafeMutablePointer<Int>
    private let nextCode: UnsafeMutablePointer<Int>
    private let offsets: UnsafeMutablePointer<Int>

    private static let entryCount =
        InflateEntry.litLenCapacity + InflateEntry.distCapacity + InflateEntry.codeLengthCapacity
    private static let byteCount = 3 * 16 * MemoryLayout<Int>.stride + entryCount * 4 + 2 * 320 * 2 + 320

    init() {
        memory = UnsafeMutableRawPointer.allocate(byteCount: Self.byteCount, alignment: MemoryLayout<Int>.alignment)
        var at = memory
        func carve<T>(_: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
            let pointer = at.bindMemory(to: T.self, capacity: count)
            at += count * MemoryLayout<T>.stride
            return pointer
        }
        counts = carve(Int.self, 16)
        nextCode = carve(Int.self, 16)
        offsets = carve(Int.self, 16)
        litLen = carve(UInt32.self, InflateEntry.litLenCapacity)
        dist = carve(UInt32.self, InflateEntry.distCapacity)
        codeLength = carve(UInt32.self, InflateEntry.codeLengthCapacity)
        sorted = carve(UInt16.self, 320)
        codes = carve(UInt16.self, 320)
        lengths = carve(UInt8.self, 320)
        // Initialised so copies and never-filled slots hold defined values (an invalid entry).
        counts.initialize(repeating: 0, count: 16)
        nextCode.initialize(repeating: 0, count: 16)
        offsets.initialize(repeating: 0, count: 16)
        litLen.initialize(repeating: InflateEntry.invalid, count: InflateEntry.litLenCapacity)
        dist.initialize(repeating: InflateEntry.invalid, count: InflateEntry.distCapacity)
        codeLength.initialize(repeating: InflateEntry.invalid, count: InflateEntry.codeLengthCapacity)
        lengths.initialize(repeating: 0, count: 320)
        sorted.initialize(repeating: 0, count: 320)
        codes.initialize(repeating: 0, count: 320)
    }

    deinit {
        memory.deallocate()
    }

    func copy() -> InflateTables {
        let clone = InflateTables()
        clone.litLen.update(from: litLen, count: InflateEntry.litLenCapacity)
        clone.dist.update(from: dist, count: InflateEntry.distCapacity)
        return clone
    }

    /// Installs the fixed Huffman codes of RFC 1951 §3.2.6 (a copy of tables built once per process).
    func installFixed() {
        let fixed = InflateFixedTables.shared
        litLen.update(from: fixed.litLen, count: 1 << InflateEntry.litLenPrimaryBits)
        dist.update(from: fixed.dist, count: 1 << InflateEntry.distPrimaryBits)
    }

    /// Builds a decode table from `count` code lengths starting at `lengths + first`.
    ///
    /// - Parameter allowSingleShortCode: zlib accepts an incomplete code only when it is one code of length 1
    ///   (lit/len and distance codes); the code-length code must always be complete.
    /// - Throws: `.invalidHuffmanCode` for over-subscribed or (disallowed) incomplete codes.
    func build(
        first: Int, count: Int, symbols: UnsafePointer<UInt32>, primaryBits: Int,
        into table: UnsafeMutablePointer<UInt32>, capacity: Int, allowSingleShortCode: Bool
    ) throws(InflateError) {
        counts.update(repeating: 0, count: 16)
        try buildTable(
            lengths: lengths + first, count: count, symbols: symbols, primaryBits: primaryBits,
            table: table, capacity: capacity, allowSingleShortCode: allowSingleShortCode)
    }

    private func buildTable(
        lengths: UnsafeMutablePointer<UInt8>, count: Int, symbols: UnsafePointer<UInt32>, primaryBits: Int,
        table: UnsafeMutablePointer<UInt32>, capacity: Int, allowSingleShortCode: Bool
    ) throws(InflateError) {
        let primarySize = 1 << primaryBits
        let invalidPrimary = InflateEntry.invalid | UInt32(primaryBits)
        for index in 0..<count { counts[Int(lengths[index])] += 1 }
        counts[0] = 0
        var maxLength = 0
        for length in 1...15 where counts[length] != 0 { maxLength = length }
        if maxLength == 0 {
            // No codes at all (allowed for distances when a block has only literals): every pattern is invalid.
            table.update(repeating: invalidPrimary, count: primarySize)
            return
        }
        var left = 1
        for length in 1...15 {
            left <<= 1
            left -= counts[length]
            if left < 0 { throw InflateError(.invalidHuffmanCode) }
        }
        let incomplete = left > 0
        if incomplete {
            guard allowSingleShortCode && maxLength == 1 else { throw InflateError(.invalidHuffmanCode) }
            table.update(repeating: invalidPrimary, count: primarySize)
        }
        // Canonical codes: first code of each length, and symbols sorted by (length, symbol) via counting sort.
        var code = 0
        offsets[1] = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            nextCode[length] = code
            if length < 15 { offsets[length + 1] = offsets[length] + counts[length] }
        }
        var total = 0
        for symbol in 0..<count where lengths[symbol] != 0 {
            let length = Int(lengths[symbol])
            sorted[offsets[length]] = UInt16(symbol)
            offsets[length] += 1
            total += 1
        }
        var position = 0
        // Short codes go straight into the primary table, replicated over the unused high index bits.
        while position < total {
            let symbol = Int(sorted[position])
            let length = Int(lengths[symbol])
            if length > primaryBits { break }
            let reversed = Self.reverse(nextCode[length], length)
            nextCode[length] += 1
            let entry = symbols[symbol] | UInt32(length)
            var index = reversed
            while index < primarySize {
                table[index] = entry
                index += 1 << length
            }
            position += 1
        }
        // Long codes: in canonical order the codes sharing a primary prefix are contiguous and end with the longest,
        // which fixes the subtable width.
        for index in position..<total {
            let length = Int(lengths[Int(sorted[index])])
            codes[index] = UInt16(nextCode[length])
            nextCode[length] += 1
        }
        var nextSubtable = primarySize
        var groupStart = position
        while groupStart < total {
            let firstLength = Int(lengths[Int(sorted[groupStart])])
            let prefix = Int(codes[groupStart]) >> (firstLength - primaryBits)
            var groupEnd = groupStart + 1
            while groupEnd < total {
                let length = Int(lengths[Int(sorted[groupEnd])])
                if Int(codes[groupEnd]) >> (length - primaryBits) != prefix { break }
                groupEnd += 1
            }
            let subBits = Int(lengths[Int(sorted[groupEnd - 1])]) - primaryBits
            let size = 1 << subBits
            guard nextSubtable + size <= capacity else { throw InflateError(.invalidHuffmanCode) }
            table[Self.reverse(prefix, primaryBits)] =
                InflateEntry.subtable | UInt32(nextSubtable) << 16 | UInt32(subBits) << 8 | UInt32(primaryBits)
            for member in groupStart..<groupEnd {
                let symbol = Int(sorted[member])
                let length = Int(lengths[symbol])
                let subLength = length - primaryBits
                let entry = symbols[symbol] | UInt32(length)
                var index = Self.reverse(Int(codes[member]) & ((1 << subLength) - 1), subLength)
                while index < size {
                    table[nextSubtable + index] = entry
                    index += 1 << subLength
                }
            }
            nextSubtable += size
            groupStart = groupEnd
        }
    }

    @inline(__always)
    static func reverse(_ code: Int, _ width: Int) -> Int {
        var code = code
        var result = 0
        for _ in 0..<width {
            result = result << 1 | code & 1
            code >>= 1
        }
        return result
    }
}

/// The fixed-code decode tables, built once per process.
struct InflateFixedTables: @unchecked Sendable {
    // Immutable after construction; lives for the whole process.
    let litLen: UnsafePointer<UInt32>
    let dist: UnsafePointer<UInt32>

    static let shared: InflateFixedTables = {
        let scratch = InflateTables()
        for symbol in 0..<288 {
            scratch.lengths[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
        }
        for symbol in 0..<32 { scratch.lengths[288 + symbol] = 5 }
        // The fixed codes are complete and valid, so building them cannot fail.
        try! scratch.build(
            first: 0, count: 288, symbols: InflateEntry.litLenSymbolPointer,
            primaryBits: InflateEntry.litLenPrimaryBits,
            into: scratch.litLen, capacity: InflateEntry.litLenCapacity, allowSingleShortCode: false)
        try! scratch.build(
            first: 288, count: 32, symbols: InflateEntry.distSymbolPointer, primaryBits: InflateEntry.distPrimaryBits,
            into: scratch.dist, capacity: InflateEntry.distCapacity, allowSingleShortCode: false)
        let litLen = UnsafeMutablePointer<UInt32>.allocate(capacity: 1 << InflateEntry.litLenPrimaryBits)
        litLen.initialize(from: scratch.litLen, count: 1 << InflateEntry.litLenPrimaryBits)
        let dist = UnsafeMutablePointer<UInt32>.allocate(capacity: 1 << InflateEntry.distPrimaryBits)
        dist.initialize(from: scratch.dist, count: 1 << InflateEntry.distPrimaryBits)
        return InflateFixedTables(litLen: litLen, dist: dist)
    }()
}
