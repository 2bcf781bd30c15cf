/// Why a JSON document was rejected, and where.
///
/// `offset` is the byte offset into the parsed input of the first byte that could not be accepted (for a truncated
/// document: the input length). Every rejection names a ``Reason``; the parser never traps on bad input.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong. Cases are stable so that callers and tests can match on them.
    public enum Reason: Equatable, Sendable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start or continue the expected syntax (e.g. `'`, a comment, `NaN`).
        case unexpectedByte(UInt8)
        /// `true`, `false` or `null` misspelt.
        case invalidLiteral
        /// A number that breaks RFC 8259 §6: missing digits, `+1`, `.5`, `1.`, `1e`.
        case invalidNumber
        /// `01`, `-00`: RFC 8259 forbids leading zeros.
        case leadingZero
        /// An unescaped byte below 0x20 inside a string.
        case controlCharacterInString
        /// A backslash followed by something other than `"\/bfnrtu`.
        case invalidEscape
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\uD800`–`\uDFFF` escape that is not half of a high+low surrogate pair.
        case loneSurrogate
        /// Malformed UTF-8: overlong form, encoded surrogate, above U+10FFFF, stray continuation, truncated sequence.
        case invalidUTF8
        /// `,` directly before `]` or `}`.
        case trailingComma
        /// An object member without `:` after its key.
        case expectedColon
        /// An object member key that is not a string.
        case expectedKey
        /// After a value inside a container: neither `,` nor the closing bracket.
        case expectedCommaOrEnd
        /// Something other than whitespace after the top-level value.
        case trailingData
        /// Containers nested deeper than the configured limit.
        case depthLimitExceeded(Int)
        /// The input is larger than the tape can address (4 GiB) or a container holds more than 2^28 entries.
        case documentTooLarge
    }

    /// Byte offset of the offending input byte.
    public var offset: Int
    /// What was wrong.
    public var reason: Reason

    /// An error at byte `offset` of the input.
    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// `invalid JSON at byte N: reason`.
    public var description: String {
        "invalid JSON at byte \(offset): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedByte(let byte): return "unexpected byte \(JSONError.show(byte))"
        case .invalidLiteral: return "invalid literal (expected true, false or null)"
        case .invalidNumber: return "invalid number"
        case .leadingZero: return "leading zero in number"
        case .controlCharacterInString: return "unescaped control character in string"
        case .invalidEscape: return "invalid escape sequence"
        case .invalidUnicodeEscape: return "\\u must be followed by four hex digits"
        case .loneSurrogate: return "unpaired UTF-16 surrogate in \\u escape"
        case .invalidUTF8: return "invalid UTF-8"
        case .trailingComma: return "trailing comma"
        case .expectedColon: return "expected ':' after object key"
        case .expectedKey: return "expected a string key"
        case .expectedCommaOrEnd: return "expected ',' or closing bracket"
        case .trailingData: return "unexpected data after the top-level value"
        case .depthLimitExceeded(let limit): return "nesting deeper than \(limit)"
        case .documentTooLarge: return "document too large"
        }
    }

    private static func show(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
