/// Why a string is not valid base64. `offset` is the byte offset of the offending character (or of the end).
public struct Base64Error: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// A byte outside the standard alphabet `A–Z a–z 0–9 + /` (URL-safe `-` `_` and whitespace included).
        case invalidCharacter
        /// `=` anywhere but the last one or two positions of a length that is a multiple of 4.
        case invalidPadding
        /// A length that no encoding produces (one character after the last full group of 4).
        case invalidLength
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "base64: \(reason) at byte \(offset)" }
}

/// Base64 with the standard alphabet (RFC 4648 §4), as Bilibili uses for protobuf payloads in JSON.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0...63 per byte, 0xFF for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Decodes padded or unpadded standard base64; rejects any other character.
    public static func decode(_ text: some StringProtocol) throws(Base64Error) -> [UInt8] {
        try decode(Array(text.utf8))
    }

    /// Decodes padded or unpadded standard base64 given as ASCII bytes.
    public static func decode(_ text: [UInt8]) throws(Base64Error) -> [UInt8] {
        var end = text.count
        var padding = 0
        while end > 0 && text[end - 1] == UInt8(ascii: "=") && padding < 2 {
            end -= 1
            padding += 1
        }
        let table = values
        var output: [UInt8] = []
        output.reserveCapacity(end / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<end {
            let value = table[Int(text[index])]
            guard value != 0xFF else {
                if text[index] == UInt8(ascii: "=") { throw Base64Error(.invalidPadding, offset: index) }
                throw Base64Error(.invalidCharacter, offset: index)
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Characters first (a stray byte is the likelier mistake), then the shape of the ending.
        if padding > 0 && text.count % 4 != 0 { throw Base64Error(.invalidPadding, offset: end) }
        if end % 4 == 1 { throw Base64Error(.invalidLength, offset: end) }
        if padding > 0 && (end % 4 == 0 || 4 - end % 4 != padding) { throw Base64Error(.invalidPadding, offset: end) }
        // Leftover bits of the last character (2 or 4) are ignored, as Python's decoder does.
        return output
    }

    /// Encodes with the standard alphabet and `=` padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(group >> 18)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(alphabet[Int(group >> 6 & 63)])
            output.append(alphabet[Int(group & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let group = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(group >> 18)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(rest == 2 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
