/// Small fixed tables of RFC 7932: insert-and-copy length codes (section 5), block counts (section 6),
/// and the packed per-command table the command loop reads.
enum BrotliCommandTables {
    /// Insert length codes 0...23: (base, extra bits).
    static let insertLengthBase: [Int] = [
        0, 1, 2, 3, 4, 5, 6, 8, 10, 14, 18, 26, 34, 50, 66, 98, 130, 194, 322, 578, 1090, 2114, 6210, 22594,
    ]
    static let insertLengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 12, 14, 24,
    ]
    /// Copy length codes 0...23: (base, extra bits).
    static let copyLengthBase: [Int] = [
        2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 18, 22, 30, 38, 54, 70, 102, 134, 198, 326, 582, 1094, 2118,
    ]
    static let copyLengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 24,
    ]
    /// Block count codes 0...25: (base, extra bits).
    static let blockCountBase: [Int] = [
        1, 5, 9, 13, 17, 25, 33, 41, 49, 65, 81, 97, 113, 145, 177, 209, 241, 305, 369, 497, 753, 1265, 2289,
        4337, 8433, 16625,
    ]
    static let blockCountExtra: [Int] = [
        2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 7, 8, 9, 10, 11, 12, 13, 24,
    ]

    /// The 704 insert-and-copy symbols, each packed as
    /// `insertBase | insertExtra << 16 | copyBase << 24 | copyExtra << 40 | implicitDistanceZero << 48`.
    static let commands: [UInt64] = {
        // Cells of 64 symbols: which third of the insert and copy code ranges each covers (section 5 table).
        let insertCell = [0, 0, 0, 0, 8, 8, 0, 16, 8, 16, 16]
        let copyCell = [0, 8, 0, 8, 0, 8, 16, 0, 16, 8, 16]
        var table = [UInt64](repeating: 0, count: 704)
        for symbol in 0..<704 {
            let cell = symbol >> 6
            let insertCode = insertCell[cell] + ((symbol >> 3) & 7)
            let copyCode = copyCell[cell] + (symbol & 7)
            var entry = UInt64(insertLengthBase[insertCode]) | UInt64(insertLengthExtra[insertCode]) << 16
            entry |= UInt64(copyLengthBase[copyCode]) << 24 | UInt64(copyLengthExtra[copyCode]) << 40
            if symbol < 128 { entry |= 1 << 48 }
            table[symbol] = entry
        }
        return table
    }()
}

/// Block type and count state of one category (literals, commands or distances), RFC 7932 section 6.
struct BrotliBlockSwitch {
    /// NBLTYPES; 1 means no switching.
    var typeCount = 1
    /// Current block type.
    var type = 0
    /// Second-to-last type ("previous" for type code 0).
    var previousType = 1
    /// Symbols left in the current block.
    var remaining = 1 << 28
    var tables: [UInt32] = []
    var typeTable = 0
    var countTable = 0

    /// Reads NBLTYPES and, when > 1, the two prefix codes and the first block count.
    init(reader: inout BrotliBitReader) throws(BrotliError) {
        typeCount = BrotliBlockSwitch.readCount256(&reader)
        guard typeCount > 1 else { return }
        typeTable = try BrotliHuffman.readCode(alphabetSize: typeCount + 2, reader: &reader, storage: &tables)
        countTable = try BrotliHuffman.readCode(alphabetSize: 26, reader: &reader, storage: &tables)
        remaining = readBlockCount(&reader)
    }

    /// A number 1...256 in the variable-length code of section 9.2.
    static func readCount256(_ reader: inout BrotliBitReader) -> Int {
        guard reader.flag() else { return 1 }
        let n = reader.bits(3)
        return n == 0 ? 2 : (1 << n) + reader.bits(n) + 1
    }

    private func readBlockCount(_ reader: inout BrotliBitReader) -> Int {
        let code = tables.withUnsafeBufferPointer { reader.decodeSymbol($0.baseAddress! + countTable) }
        return BrotliCommandTables.blockCountBase[code] + reader.bits(BrotliCommandTables.blockCountExtra[code])
    }

    /// Reads a block switch command: the new type and the new block's length.
    mutating func switchBlock(_ reader: inout BrotliBitReader) {
        let code = tables.withUnsafeBufferPointer { reader.decodeSymbol($0.baseAddress! + typeTable) }
        var newType: Int
        switch code {
        case 0: newType = previousType
        case 1: newType = type + 1
        default: newType = code - 2
        }
        if newType >= typeCount { newType -= typeCount }
        previousType = type
        type = newType
        remaining = readBlockCount(&reader)
    }
}
