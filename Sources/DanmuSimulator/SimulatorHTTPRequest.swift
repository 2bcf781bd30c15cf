/// A parsed HTTP/1.1 request head, as much as the simulator's HTTP API needs: method, path, decoded query
/// parameters and headers. Bodies are not read (every route is a GET).
struct SimulatorHTTPRequest: Equatable, Sendable {
    /// A head larger than this is refused (431).
    static let maxHeadBytes = 16 << 10

    var method: String
    var path: String
    /// `name=value` pairs in wire order, percent-decoded (`+` is a space, as in forms).
    var query: [(String, String)]
    var headers: [(String, String)]

    static func == (a: SimulatorHTTPRequest, b: SimulatorHTTPRequest) -> Bool {
        a.method == b.method && a.path == b.path && a.query.elementsEqual(b.query, by: ==)
            && a.headers.elementsEqual(b.headers, by: ==)
    }

    /// First header with this name (case-insensitive).
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    enum ParseResult: Equatable {
        /// No blank line yet.
        case incomplete
        case invalid(String)
        case complete(SimulatorHTTPRequest)
    }

    /// Parses `bytes` once they hold the whole head (up to the first `\r\n\r\n`).
    static func parse(_ bytes: [UInt8]) -> ParseResult {
        guard let end = headEnd(bytes) else { return .incomplete }
        let lines = bytes[..<end].split(separator: 10, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
        }
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return .invalid("bad request line \(lines[0].prefix(80))")
        }
        let target = parts[1]
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = percentDecoded(pathPart[0], plusIsSpace: false), path.hasPrefix("/") else {
            return .invalid("bad request target \(target.prefix(80))")
        }
        var query: [(String, String)] = []
        if pathPart.count > 1 {
            for pair in pathPart[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = percentDecoded(kv[0], plusIsSpace: true),
                    let value = percentDecoded(kv.count > 1 ? kv[1] : "", plusIsSpace: true)
                else { return .invalid("bad percent-encoding in the query") }
                query.append((key, value))
            }
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .invalid("header line without a colon") }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((String(line[..<colon]), String(value)))
        }
        return .complete(
            SimulatorHTTPRequest(method: String(parts[0]), path: path, query: query, headers: headers))
    }

    /// A complete response with a JSON body; every connection closes after one answer.
    static func response(status: Int, body: [UInt8]) -> [UInt8] {
        let reason: String
        switch status {
        case 200: reason = "OK"
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        case 405: reason = "Method Not Allowed"
        case 431: reason = "Request Header Fields Too Large"
        default: reason = "Error"
        }
        let head =
            "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Index of the blank line ending the head (the `\r\n\r\n`'s first byte), nil while there is none.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// `%XX` decoded as UTF-8; nil for a bad escape or invalid UTF-8.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard bytes.count >= 2, let high = hexValue(bytes.removeFirst()),
                    let low = hexValue(bytes.removeFirst())
                else { return nil }
                out.append(high << 4 | low)
            } else if byte == UInt8(ascii: "+"), plusIsSpace {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
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
