/// The hot loop of the decoder: insert-and-copy commands, literals with context modeling, distances and
/// static dictionary references (RFC 7932 sections 4, 5, 7 and 8).
///
/// Safety argument for the unchecked pointer arithmetic below:
/// - every symbol comes from a table of the right alphabet, so `commandTable[symbol]` (704 entries) and the
///   context-map lookups (`mode * 512 + p`, `type * 64 + context`, `type * 4 + context`) stay in range:
///   block types are < NBLTYPES by construction in `BrotliBlockSwitch`;
/// - before a command writes, its insert length and (for copies and dictionary words) its output length are
///   checked against the bytes left in the meta-block, for which `output.reserve` made room up front;
/// - a backward copy's distance is at most the number of bytes already written;
/// - whole-chunk copies may write up to 31 bytes past the logical end, inside `BrotliOutput.slack`.
extension BrotliDecoder {
    mutating func runCommands(
        _ layout: BrotliMetaBlockLayout, arena: UnsafePointer<UInt32>,
        literals: inout BrotliBlockSwitch, commands: inout BrotliBlockSwitch, distances: inout BrotliBlockSwitch
    ) -> BrotliError.Reason? {
        var br = reader
        var (d0, d1, d2, d3) = lastDistances
        var pos = output.count
        defer {
            reader = br
            lastDistances = (d0, d1, d2, d3)
            output.count = pos
        }
        let lookup = BrotliStatic.contextLookup
        let commandTable = BrotliStatic.commands
        let postfixBits = layout.postfixBits
        let postfixMask = (1 << postfixBits) - 1
        let directCodes = layout.directCodes
        var remaining = layout.length
        output.reserve(remaining)  // the whole meta-block; `run` checked it against the limit
        let out = output.base
        var p1: UInt8 = pos > 0 ? out[pos - 1] : 0
        var p2: UInt8 = pos > 1 ? out[pos - 2] : 0
        var literalLookup = lookup + layout.contextModes[literals.type] * 512
        var literalMap = arena + layout.literalMapStart + literals.type * 64
        var commandTree = arena + Int(arena[layout.commandMapStart + commands.type])
        var distanceMap = arena + layout.distanceMapStart + distances.type * 4
        let singleLiteralTree: UnsafePointer<UInt32>? = layout.literalTrees == 1 ? arena + Int(literalMap[0]) : nil

        while remaining > 0 {
            if br.isOverrun { return .truncated }
            if commands.remaining == 0 {
                commands.switchBlock(&br)
                commandTree = arena + Int(arena[layout.commandMapStart + commands.type])
            }
            commands.remaining -= 1
            let entry = commandTable[br.decodeSymbol(commandTree)]
            let insertLength = Int(entry & 0xFFFF) + br.bits(Int((entry >> 16) & 0xFF))
            let copyLength = Int((entry >> 24) & 0xFFFF) + br.bits(Int((entry >> 40) & 0xFF))
            guard insertLength <= remaining else { return .invalidBlockLength }

            var pending = insertLength
            while pending > 0 {
                if literals.remaining == 0 {
                    literals.switchBlock(&br)
                    literalLookup = lookup + layout.contextModes[literals.type] * 512
                    literalMap = arena + layout.literalMapStart + literals.type * 64
                }
                let n = min(pending, literals.remaining)
                literals.remaining -= n
                pending -= n
                var dst = out + pos
                let end = dst + n
                if let tree = singleLiteralTree {
                    // One literal prefix code for every context: no context to compute (common below q5).
                    while dst < end {
                        dst.pointee = UInt8(truncatingIfNeeded: br.decodeSymbol(tree))
                        dst += 1
                    }
                } else {
                    while dst < end {
                        let context = Int(literalLookup[Int(p1)] | literalLookup[256 + Int(p2)])
                        let literal = UInt8(truncatingIfNeeded: br.decodeSymbol(arena + Int(literalMap[context])))
                        dst.pointee = literal
                        dst += 1
                        p2 = p1
                        p1 = literal
                    }
                }
                pos += n
            }
            remaining -= insertLength
            if singleLiteralTree != nil && insertLength > 0 {
                p1 = out[pos - 1]
                p2 = pos > 1 ? out[pos - 2] : 0
            }
            if remaining == 0 { break }

            var distance: Int
            var isLastDistance = false
            if entry >> 48 != 0 {
                distance = d0
                isLastDistance = true
            } else {
                if distances.remaining == 0 {
                    distances.switchBlock(&br)
                    distanceMap = arena + layout.distanceMapStart + distances.type * 4
                }
                distances.remaining -= 1
                let context = copyLength > 4 ? 3 : copyLength - 2
                let code = br.decodeSymbol(arena + Int(distanceMap[context]))
                if code < 16 {
                    switch code {
                    case 0:
                        distance = d0
                        isLastDistance = true
                    case 1: distance = d1
                    case 2: distance = d2
                    case 3: distance = d3
                    case 4...9:
                        let delta = (code - 2) >> 1  // 4,5 → 1; 6,7 → 2; 8,9 → 3
                        distance = code & 1 == 0 ? d0 - delta : d0 + delta
                    default:
                        let delta = (code - 8) >> 1  // 10,11 → 1; 12,13 → 2; 14,15 → 3
                        distance = code & 1 == 0 ? d1 - delta : d1 + delta
                    }
                    if distance <= 0 { return .invalidDistance }
                } else if code < 16 + directCodes {
                    distance = code - 15
                } else {
                    let c = code - directCodes - 16
                    let extraBits = 1 + (c >> (postfixBits + 1))
                    let offset = ((2 + ((c >> postfixBits) & 1)) << extraBits) - 4
                    distance = ((offset + br.bits(extraBits)) << postfixBits) + (c & postfixMask) + directCodes + 1
                }
            }

            let maxDistance = min(maxBackwardDistance, pos)
            if distance > maxDistance {
                let written = Self.writeDictionaryWord(
                    to: out + pos, length: copyLength, wordID: distance - maxDistance - 1, remaining: remaining)
                guard written >= 0 else { return written == -1 ? .invalidDictionaryReference : .invalidBlockLength }
                pos += written
                remaining -= written
            } else {
                if !isLastDistance {
                    d3 = d2
                    d2 = d1
                    d1 = d0
                    d0 = distance
                }
                guard copyLength <= remaining else { return .invalidBlockLength }
                let dst = out + pos
                let src = dst - distance
                if distance >= 16 && copyLength <= 32 {
                    // Two whole chunks (up to 31 bytes of overshoot land in the slack or are overwritten later);
                    // the second chunk reads bytes the first one wrote only when distance < 32, which is fine
                    // because they are then exactly the bytes that belong there.
                    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 16)
                    UnsafeMutableRawPointer(dst + 16).copyMemory(from: src + 16, byteCount: 16)
                } else if distance >= copyLength {
                    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: copyLength)
                } else if distance >= 16 {
                    // Chunks never read bytes that this copy has not written yet, since distance >= 16.
                    var i = 0
                    while i < copyLength {
                        UnsafeMutableRawPointer(dst + i).copyMemory(from: src + i, byteCount: 16)
                        i += 16
                    }
                } else if distance >= 8 {
                    var i = 0
                    while i < copyLength {
                        UnsafeMutableRawPointer(dst + i).copyMemory(from: src + i, byteCount: 8)
                        i += 8
                    }
                } else if distance == 1 {
                    dst.update(repeating: src.pointee, count: copyLength)
                } else {
                    for i in 0..<copyLength { dst[i] = src[i] }
                }
                pos += copyLength
                remaining -= copyLength
            }
            p1 = pos > 0 ? out[pos - 1] : 0
            p2 = pos > 1 ? out[pos - 2] : 0
        }
        return nil
    }

    /// Writes static dictionary word `wordID` of `length` (4...24) with its transform (section 8).
    /// Returns the bytes written, -1 for a word or transform that does not exist, -2 when the result does not
    /// fit in the `remaining` bytes of the meta-block.
    static func writeDictionaryWord(
        to dst: UnsafeMutablePointer<UInt8>, length: Int, wordID: Int, remaining: Int
    ) -> Int {
        guard length >= 4 && length <= 24 else { return -1 }
        let sizeBits = Int(brotliDictionarySizeBits[length])
        let index = wordID & ((1 << sizeBits) - 1)
        let transform = wordID >> sizeBits
        guard transform < brotliTransformType.count else { return -1 }
        var wordStart = Int(brotliDictionaryOffsets[length]) + index * length
        guard wordStart + length <= BrotliStatic.dictionarySize else { return -1 }
        var wordLength = length
        let type = Int(brotliTransformType[transform])
        if type >= 12 {
            let skip = min(type - 11, wordLength)
            wordStart += skip
            wordLength -= skip
        } else if type >= 1 && type <= 9 {
            wordLength -= min(type, wordLength)
        }
        let prefixLength = Int(brotliTransformPrefixLength[transform])
        let suffixLength = Int(brotliTransformSuffixLength[transform])
        let total = prefixLength + wordLength + suffixLength
        guard total <= remaining else { return -2 }
        let prefixStart = Int(brotliTransformPrefixStart[transform])
        for i in 0..<prefixLength { dst[i] = brotliTransformAffixBytes[prefixStart + i] }
        let word = dst + prefixLength
        word.update(from: BrotliStatic.dictionary + wordStart, count: wordLength)
        if type == 10 {
            _ = uppercase(word)
        } else if type == 11 {
            // May touch up to 2 bytes past the word, as the reference does; the suffix or slack absorbs them.
            var i = 0
            while i < wordLength { i += uppercase(word + i) }
        }
        let suffixStart = Int(brotliTransformSuffixStart[transform])
        for i in 0..<suffixLength { word[wordLength + i] = brotliTransformAffixBytes[suffixStart + i] }
        return total
    }

    /// The RFC's ToUpperCase on one UTF-8-ish character; returns how many bytes it stepped over.
    @inline(__always)
    private static func uppercase(_ p: UnsafeMutablePointer<UInt8>) -> Int {
        if p[0] < 0xC0 {
            if p[0] >= 0x61 && p[0] <= 0x7A { p[0] ^= 32 }
            return 1
        }
        if p[0] < 0xE0 {
            p[1] ^= 32
            return 2
        }
        p[2] ^= 5
        return 3
    }
}
