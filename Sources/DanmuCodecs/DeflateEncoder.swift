// A small deflate encoder for the simulator: stored blocks, or greedy LZ77 (hash chains) with the fixed Huffman
// codes of RFC 1951 §3.2.6. It favours simplicity over ratio; any conforming inflater (ours, zlib) decodes it.

/// How `Zlib.compress` / `Deflate.compress` encode.
public enum DeflateMode: Sendable, Equatable {
    /// Stored (uncompressed) blocks of at most 65,535 bytes.
    case stored
    /// One block of greedy LZ77 matches and literals with the fixed Huffman codes.
    case fixedHuffman
}

enum DeflateEncoder {
    static func encode(_ input: [UInt8], mode: DeflateMode, into output: inout [UInt8]) {
        switch mode {
        case .stored: encodeStored(input, into: &output)
        case .fixedHuffman: encodeFixed(input, into: &output)
        }
    }

    private static func encodeStored(_ input: [UInt8], into output: inout [UInt8]) {
        var start = 0
        repeat {
            let count = min(65_535, input.count - start)
            let isFinal = start + count == input.count
            // Block header byte: BFINAL, BTYPE 00, then padding to the byte boundary.
            output.append(isFinal ? 1 : 0)
            output.append(UInt8(truncatingIfNeeded: count))
            output.append(UInt8(truncatingIfNeeded: count >> 8))
            output.append(UInt8(truncatingIfNeeded: ~count))
            output.append(UInt8(truncatingIfNeeded: ~count >> 8))
            output.append(contentsOf: input[start..<start + count])
            start += count
        } while start < input.count
    }

    /// LSB-first bit writer into memory sized for the worst case (see `encodeFixed`), so a symbol costs no
    /// bounds or uniqueness checks: writing through `[UInt8].append` per byte showed up as a third of the encoder's
    /// time in the simulator's profile.
    private struct BitWriter {
        let base: UnsafeMutablePointer<UInt8>
        var position = 0
        var bits: UInt64 = 0
        var count = 0

        /// `width` ≤ 16, so `bits` holds at most 7 + 16 bits here.
        @inline(__always)
        mutating func write(_ value: UInt32, _ width: Int) {
            bits |= UInt64(value) << UInt64(count)
            count += width
            while count >= 8 {
                base[position] = UInt8(truncatingIfNeeded: bits)
                position += 1
                bits >>= 8
                count -= 8
            }
        }

        mutating func flush() {
            if count > 0 {
                base[position] = UInt8(truncatingIfNeeded: bits)
                position += 1
            }
            bits = 0
            count = 0
        }
    }

    /// Fixed lit/len codes, bit-reversed for LSB-first output: (code, length) per symbol 0...287.
    private static let fixedLitLenCodes: [(code: UInt32, length: Int)] = (0..<288).map { symbol in
        let (code, length): (Int, Int)
        switch symbol {
        case 0..<144: (code, length) = (0x30 + symbol, 8)
        case 144..<256: (code, length) = (0x190 + symbol - 144, 9)
        case 256..<280: (code, length) = (symbol - 256, 7)
        default: (code, length) = (0xC0 + symbol - 280, 8)
        }
        return (UInt32(InflateTables.reverse(code, length)), length)
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
        35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
        3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    /// Length 3...258 → index into lengthBase (symbol − 257).
    private static let lengthCode: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 259)
        for code in 0..<29 {
            let end = code == 28 ? 259 : lengthBase[code + 1]
            for length in lengthBase[code]..<min(end, 259) { table[length] = UInt8(code) }
        }
        table[258] = 28
        return table
    }()

    private static let distBase: [Int] = (0..<30).map { $0 < 4 ? $0 + 1 : (2 + $0 % 2) << ($0 / 2 - 1) + 1 }

    @inline(__always)
    private static func distCode(_ distance: Int) -> Int {
        if distance <= 4 { return distance - 1 }
        // Codes come in pairs per power of two: the top bit's position picks the pair, the next bit the member.
        let d = distance - 1
        let top = Int.bitWidth - 1 - d.leadingZeroBitCount
        return 2 * top + (d >> (top - 1)) & 1
    }

    // Match-finder effort. The simulator's batches are ten near-identical JSON messages, where every candidate
    // matches for hundreds of bytes: the first version (32 candidates, every position of every match hashed,
    // `[UInt8].append` per output byte, byte-wise compares, exclusivity checks on captured arrays) ran at 66 MB/s
    // and capped the simulator's zlib flood far below its plain and brotli rates. Now 4–5× faster on captured
    // simulator batches for 1.6 % more output (ZlibCompressTests checks that they still compress well).

    /// Candidates looked at per position.
    static let maxChain = 8
    /// A match this long is taken without looking further (zlib's `nice_length`).
    static let niceLength = 258
    /// Longer matches hash only their first and last two positions (zlib's `max_insert_length`): on repetitive
    /// input the skipped positions are reachable through the earlier copy they matched.
    static let maxInsertLength = 16

    private static func encodeFixed(_ input: [UInt8], into output: inout [UInt8]) {
        // Worst case: every byte a 9-bit literal (a match costs at most 25 bits for 3 bytes, 31 for 115+), plus
        // the 3-bit block header and the 7-bit end of block.
        let bound = input.count + input.count / 8 + 3
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = output.withUnsafeMutableBufferPointer { buffer in
            input.withUnsafeBufferPointer { data in
                encodeFixed(data, into: buffer.baseAddress! + start)
            }
        }
        precondition(written <= bound, "deflate output bound")
        output.removeLast(bound - written)
    }

    /// Encodes `data` as one final fixed-Huffman block at `out`, which has room for the worst case. Returns the
    /// bytes written.
    private static func encodeFixed(_ data: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var writer = BitWriter(base: out)
        writer.write(0b011, 3)  // BFINAL = 1, BTYPE = 01 (fixed)
        let codes = fixedLitLenCodes
        let lengthCode = Self.lengthCode, lengthBase = Self.lengthBase, lengthExtra = Self.lengthExtra
        let distBase = Self.distBase
        let count = data.count
        // Tables sized to the input: the simulator compresses many small batches, and zeroing 256 KiB of hash
        // state per 2 KiB message would dominate. Chains are indexed modulo a power of two ≥ the input (≤ 32 KiB).
        let hashBits = max(8, min(15, Int.bitWidth - max(count, 1).leadingZeroBitCount))
        let windowSize = min(32_768, 1 << (Int.bitWidth - max(count - 1, 1).leadingZeroBitCount))
        let windowMask = windowSize - 1
        let head = UnsafeMutablePointer<Int32>.allocate(capacity: 1 << hashBits)
        head.initialize(repeating: -1, count: 1 << hashBits)
        // `previous` needs no initial value: a slot is written when its position is inserted, before any chain
        // can reach it.
        let previous = UnsafeMutablePointer<Int32>.allocate(capacity: windowSize)
        defer {
            head.deallocate()
            previous.deallocate()
        }
        guard let bytes = data.baseAddress else {
            writer.write(codes[256].code, codes[256].length)
            writer.flush()
            return writer.position
        }
        @inline(__always) func hash(_ i: Int) -> Int {
            let value = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
            return Int((value &* 0x9E37_79B1) >> UInt32(32 - hashBits))
        }
        @inline(__always) func insert(_ i: Int) {
            guard i + 2 < count else { return }
            let h = hash(i)
            previous[i & windowMask] = head[h]
            head[h] = Int32(i)
        }
        /// Length of the common prefix of the bytes at `a` and `b`, at most `limit`; eight bytes per step.
        @inline(__always) func commonLength(_ a: Int, _ b: Int, _ limit: Int) -> Int {
            var length = 0
            while length + 8 <= limit {
                let x = UInt64(littleEndian: UnsafeRawPointer(bytes + a + length).loadUnaligned(as: UInt64.self))
                let y = UInt64(littleEndian: UnsafeRawPointer(bytes + b + length).loadUnaligned(as: UInt64.self))
                if x != y { return length + (x ^ y).trailingZeroBitCount / 8 }
                length += 8
            }
            while length < limit && bytes[a + length] == bytes[b + length] { length += 1 }
            return length
        }
        var i = 0
        while i < count {
            var bestLength = 0
            var bestDistance = 0
            if i + 2 < count {
                var candidate = Int(head[hash(i)])
                var chain = maxChain
                let maxLength = min(258, count - i)
                let goodEnough = min(niceLength, maxLength)
                while candidate >= 0 && i - candidate <= 32_768 && chain > 0 {
                    // A candidate can only beat the best if it also matches at the best's length: check that
                    // byte before comparing the whole prefix.
                    if bestLength == 0 || bytes[candidate + bestLength] == bytes[i + bestLength] {
                        let length = commonLength(candidate, i, maxLength)
                        if length > bestLength {
                            bestLength = length
                            bestDistance = i - candidate
                            if length >= goodEnough { break }
                        }
                    }
                    let next = Int(previous[candidate & windowMask])
                    // Entries older than the window were overwritten: stop when the chain stops going back.
                    if next >= candidate { break }
                    candidate = next
                    chain -= 1
                }
            }
            if bestLength >= 3 {
                let lengthIndex = Int(lengthCode[bestLength])
                let symbol = codes[257 + lengthIndex]
                writer.write(symbol.code, symbol.length)
                if lengthExtra[lengthIndex] > 0 {
                    writer.write(UInt32(bestLength - lengthBase[lengthIndex]), lengthExtra[lengthIndex])
                }
                let dCode = distCode(bestDistance)
                writer.write(UInt32(InflateTables.reverse(dCode, 5)), 5)
                let dExtra = dCode < 4 ? 0 : dCode / 2 - 1
                if dExtra > 0 { writer.write(UInt32(bestDistance - distBase[dCode]), dExtra) }
                if bestLength <= maxInsertLength {
                    for position in i..<i + bestLength { insert(position) }
                } else {
                    insert(i)
                    insert(i + bestLength - 2)
                    insert(i + bestLength - 1)
                }
                i += bestLength
            } else {
                let symbol = codes[Int(bytes[i])]
                writer.write(symbol.code, symbol.length)
                insert(i)
                i += 1
            }
        }
        writer.write(codes[256].code, codes[256].length)
        writer.flush()
        return writer.position
    }
}
