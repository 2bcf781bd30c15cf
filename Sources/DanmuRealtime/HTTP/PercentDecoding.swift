/// Percent-decoding of request paths and queries (RFC 3986 §2.1). A malformed escape, an encoded NUL or bytes
/// that are not UTF-8 are a 400 naming the part, never a silently different string.
enum PercentDecoding {
    /// The decoded path; `%2F` becomes `/` (routes compare decoded segments, and no route serves files).
    static func decodePath(_ raw: ArraySlice<UInt8>) throws(HTTPRequestError) -> String {
        try decode(raw, plusIsSpace: false, part: "path")
    }

    /// `a=1&b=x+y` → [("a", "1"), ("b", "x y")]; empty pieces are skipped; a piece without `=` has value "".
    static func decodeQuery(_ raw: ArraySlice<UInt8>) throws(HTTPRequestError) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for piece in raw.split(separator: UInt8(ascii: "&")) {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let name = try decode(
                piece[piece.startIndex..<(equals ?? piece.endIndex)], plusIsSpace: true, part: "query")
            let value =
                try equals.map { (index) throws(HTTPRequestError) in
                    try decode(piece[(index + 1)...], plusIsSpace: true, part: "query")
                } ?? ""
            pairs.append((name, value))
        }
        return pairs
    }

    static func decode(_ raw: ArraySlice<UInt8>, plusIsSpace: Bool, part: String) throws(HTTPRequestError)
        -> String
    {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.endIndex, let high = hexValue(raw[index + 1]), let low = hexValue(raw[index + 2])
                else {
                    throw HTTPRequestError(status: 400, "bad percent-escape in the \(part)")
                }
                let decoded = high << 4 | low
                if decoded == 0 { throw HTTPRequestError(status: 400, "encoded NUL (%00) in the \(part)") }
                bytes.append(decoded)
                index += 3
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? 32 : byte)
                index += 1
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw HTTPRequestError(status: 400, "the \(part) is not UTF-8 after percent-decoding")
        }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
