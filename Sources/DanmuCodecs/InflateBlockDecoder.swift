import Glibc

// The hot loop of inflate: Huffman-coded block data.
//
// The fast loop runs while at least 8 input bytes and 266 output bytes of room remain: one refill gives ≥ 56 bits,
// which covers a whole literal/length code with its extra bits (≤ 20) plus a distance code with its extra bits
// (≤ 28); 266 bytes cover the longest match (258) plus the up-to-7-byte over-copy of the 8-byte match copy. So the
// fast loop needs no bounds checks on input or output beyond its loop condition. Near either end, the slow path
// decodes one symbol at a time with exact checks and rewinds if the symbol runs past the end of the input.

extension InflateEngine {
    /// Decodes symbols until end-of-block (returns true) or until the input runs out (returns false, with `reader`
    /// at the start of the incomplete symbol).
    func decodeHuffmanBlock(
        _ reader: inout InflateBitReader, output: inout InflateOutputBuffer, baseOffset: Int
    ) throws(InflateError) -> Bool {
        let litLen = UnsafePointer(tables.litLen)
        let dist = UnsafePointer(tables.dist)
        let litLenMask = UInt64(1 << InflateEntry.litLenPrimaryBits - 1)
        let distMask = UInt64(1 << InflateEntry.distPrimaryBits - 1)
        let kindMask = InflateEntry.kindMask
        let fastSlack = 266

        while true {
            if output.freeCapacity < fastSlack { output.reserveIfPossible(fastSlack) }
            if reader.canRefillFast && output.freeCapacity >= fastSlack {
                // Locals keep the hot state in registers.
                var bits = reader.bits
                var bitCount = reader.bitCount
                var pos = reader.pos
                let input = reader.base
                let inputLimit = reader.count &- 8
                let out = output.base!
                var outCount = output.count
                let outLimit = output.capacity &- fastSlack
                var error: InflateError.Reason? = nil
                var endOfBlock = false
                while pos <= inputLimit && outCount <= outLimit {
                    bits |=
                        UInt64(littleEndian: UnsafeRawPointer(input + pos).loadUnaligned(as: UInt64.self))
                        &<< UInt64(bitCount)
                    pos &+= (63 &- bitCount) &>> 3
                    bitCount |= 56

                    var entry = litLen[Int(bits & litLenMask)]
                    if entry & kindMask == InflateEntry.subtable {
                        entry =
                            litLen[
                                Int(entry &>> 16)
                                    &+ Int(
                                        (bits &>> UInt64(entry & 0x1F))
                                            & ((1 &<< UInt64((entry &>> 8) & 0xF)) &- 1))]
                    }
                    let kind = entry & kindMask
                    if kind == InflateEntry.literal {
                        out[outCount] = UInt8(truncatingIfNeeded: entry &>> 16)
                        outCount &+= 1
                        let used = Int(entry & 0x1F)
                        bits &>>= UInt64(used)
                        bitCount &-= used
                        // Two more literals fit in the remaining ≥ 41 bits without a refill: a primary-table
                        // entry is at most 10 bits (issue 11: JSON is mostly literals; a refill per two was the
                        // loop's main cost).
                        let next = litLen[Int(bits & litLenMask)]
                        if next & kindMask == InflateEntry.literal {
                            out[outCount] = UInt8(truncatingIfNeeded: next &>> 16)
                            outCount &+= 1
                            let nextUsed = Int(next & 0x1F)
                            bits &>>= UInt64(nextUsed)
                            bitCount &-= nextUsed
                            let third = litLen[Int(bits & litLenMask)]
                            if third & kindMask == InflateEntry.literal {
                                out[outCount] = UInt8(truncatingIfNeeded: third &>> 16)
                                outCount &+= 1
                                let thirdUsed = Int(third & 0x1F)
                                bits &>>= UInt64(thirdUsed)
                                bitCount &-= thirdUsed
                            }
                        }
                        continue
                    }
                    if kind == InflateEntry.base {
                        let codeLength = UInt64(entry & 0x1F)
                        let extra = UInt64((entry &>> 8) & 0xF)
                        let length = Int(entry &>> 16) &+ Int((bits &>> codeLength) & ((1 &<< extra) &- 1))
                        bits &>>= codeLength &+ extra
                        bitCount &-= Int(codeLength &+ extra)

                        var distEntry = dist[Int(bits & distMask)]
                        if distEntry & kindMask == InflateEntry.subtable {
                            distEntry =
                                dist[
                                    Int(distEntry &>> 16)
                                        &+ Int(
                                            (bits &>> UInt64(distEntry & 0x1F))
                                                & ((1 &<< UInt64((distEntry &>> 8) & 0xF)) &- 1))]
                        }
                        guard distEntry & kindMask == InflateEntry.base else {
                            error = .invalidSymbol
                            break
                        }
                        let distCodeLength = UInt64(distEntry & 0x1F)
                        let distExtra = UInt64((distEntry &>> 8) & 0xF)
                        let distance =
                            Int(distEntry &>> 16)
                            &+ Int((bits &>> distCodeLength) & ((1 &<< distExtra) &- 1))
                        bits &>>= distCodeLength &+ distExtra
                        bitCount &-= Int(distCodeLength &+ distExtra)
                        guard distance <= outCount else {
                            error = .distanceTooFarBack
                            break
                        }
                        Self.copyMatchFast(out + outCount, distance: distance, length: length)
                        outCount &+= length
                        continue
                    }
                    if kind == InflateEntry.endOfBlock {
                        let used = Int(entry & 0x1F)
                        bits &>>= UInt64(used)
                        bitCount &-= used
                        endOfBlock = true
                        break
                    }
                    error = .invalidSymbol
                    break
                }
                reader.bits = bits
                reader.bitCount = bitCount
                reader.pos = pos
                output.count = outCount
                if let error { throw InflateError(error, offset: baseOffset + reader.consumedBits / 8) }
                if endOfBlock { return true }
                continue
            }
            // Slow path: one symbol with exact checks.
            let start = reader
            reader.refill()
            var entry = litLen[Int(reader.bits & litLenMask)]
            if entry & kindMask == InflateEntry.subtable {
                entry =
                    litLen[
                        Int(entry >> 16)
                            + Int(
                                (reader.bits >> UInt64(entry & 0x1F))
                                    & ((1 << UInt64((entry >> 8) & 0xF)) - 1))]
            }
            let kind = entry & kindMask
            reader.consume(Int(entry & 0x1F))
            if kind == InflateEntry.literal {
                if reader.isOverrun {
                    reader = start
                    return false
                }
                try output.reserve(1)
                output.base![output.count] = UInt8(truncatingIfNeeded: entry >> 16)
                output.count += 1
                continue
            }
            if kind == InflateEntry.endOfBlock {
                if reader.isOverrun {
                    reader = start
                    return false
                }
                return true
            }
            if kind != InflateEntry.base {
                if reader.isOverrun {
                    reader = start
                    return false
                }
                throw InflateError(.invalidSymbol, offset: baseOffset + start.consumedBits / 8)
            }
            let length = Int(entry >> 16) + Int(reader.take(Int((entry >> 8) & 0xF)))
            var distEntry = dist[Int(reader.bits & distMask)]
            if distEntry & kindMask == InflateEntry.subtable {
                distEntry =
                    dist[
                        Int(distEntry >> 16)
                            + Int(
                                (reader.bits >> UInt64(distEntry & 0x1F))
                                    & ((1 << UInt64((distEntry >> 8) & 0xF)) - 1))]
            }
            reader.consume(Int(distEntry & 0x1F))
            let distance: Int
            if distEntry & kindMask == InflateEntry.base {
                distance = Int(distEntry >> 16) + Int(reader.take(Int((distEntry >> 8) & 0xF)))
            } else {
                distance = 0
            }
            if reader.isOverrun {
                reader = start
                return false
            }
            guard distance != 0 else { throw InflateError(.invalidSymbol, offset: baseOffset + start.consumedBits / 8) }
            guard distance <= output.count else {
                throw InflateError(.distanceTooFarBack, offset: baseOffset + start.consumedBits / 8)
            }
            try output.reserve(length)
            let destination = output.base! + output.count
            let source = destination - distance
            for index in 0..<length { destination[index] = source[index] }
            output.count += length
        }
    }

    /// Copies a match inside the output; may write up to 7 bytes past `length` (the fast loop reserved them).
    @inline(__always)
    static func copyMatchFast(_ destination: UnsafeMutablePointer<UInt8>, distance: Int, length: Int) {
        let source = destination - distance
        if distance >= 8 {
            // Each 8-byte load reads only bytes already written (distance ≥ 8), so overlap is harmless.
            var offset = 0
            repeat {
                let word = UnsafeRawPointer(source + offset).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(destination + offset).storeBytes(of: word, as: UInt64.self)
                offset &+= 8
            } while offset < length
        } else if distance == 1 {
            memset(destination, Int32(source.pointee), length)
        } else {
            for index in 0..<length { destination[index] = source[index] }
        }
    }
}
