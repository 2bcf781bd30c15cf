/// The request line and headers of one request, checked against the limits (RFC 9112 §3, §5, §6.3).
struct HTTPRequestHead {
    var method: String
    var path: String
    var query: [(name: String, value: String)]
    var minorVersion: Int
    var headers: [(name: String, value: String)]
    var contentLength: Int

    /// Parses `text`: the request line and header lines, each ending in LF (CR optional), without the blank line.
    static func parse(_ text: ArraySlice<UInt8>, limits: HTTPServerLimits) throws(HTTPRequestError) -> HTTPRequestHead {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = text.startIndex
        for index in text.indices where text[index] == 10 {
            var end = index
            if end > lineStart && text[end - 1] == 13 { end -= 1 }
            lines.append(text[lineStart..<end])
            lineStart = index + 1
        }
        if lineStart < text.endIndex { lines.append(text[lineStart...]) }
        guard let requestLine = lines.first else { throw HTTPRequestError(status: 400, "empty request") }
        if requestLine.count > limits.maxRequestLineBytes {
            throw HTTPRequestError(status: 414, "request line longer than \(limits.maxRequestLineBytes) bytes")
        }
        let headerBytes = text.count - requestLine.count
        if headerBytes > limits.maxHeaderBytes {
            throw HTTPRequestError(status: 431, "header block larger than \(limits.maxHeaderBytes) bytes")
        }
        if lines.count - 1 > limits.maxHeaderCount {
            throw HTTPRequestError(status: 431, "more than \(limits.maxHeaderCount) header fields")
        }
        var head = try parseRequestLine(requestLine)
        for line in lines.dropFirst() {
            head.headers.append(try parseHeader(line))
        }
        head.contentLength = try contentLength(of: head.headers, limits: limits)
        return head
    }

    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPRequestError) -> HTTPRequestHead {
        let parts = line.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw HTTPRequestError(status: 400, "request line is not 'METHOD /target HTTP/1.x'")
        }
        let method = parts[0]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else {
            throw HTTPRequestError(status: 400, "method is not a token")
        }
        let version = Array(parts[2])
        let minorVersion: Int
        switch version {
        case Array("HTTP/1.1".utf8): minorVersion = 1
        case Array("HTTP/1.0".utf8): minorVersion = 0
        default:
            if version.starts(with: Array("HTTP/".utf8)) {
                throw HTTPRequestError(status: 505, "only HTTP/1.0 and HTTP/1.1 are supported")
            }
            throw HTTPRequestError(status: 400, "bad HTTP version in the request line")
        }
        let target = parts[1]
        guard target.first == UInt8(ascii: "/") else {
            throw HTTPRequestError(status: 400, "request target must be a path starting with '/'")
        }
        guard target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw HTTPRequestError(status: 400, "request target contains a control or non-ASCII byte")
        }
        let questionMark = target.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = target[target.startIndex..<(questionMark ?? target.endIndex)]
        // A fragment is never sent by a client; treat '#' as part of nothing and refuse it.
        if target.contains(UInt8(ascii: "#")) {
            throw HTTPRequestError(status: 400, "request target contains a fragment ('#')")
        }
        let path = try PercentDecoding.decodePath(rawPath)
        var query: [(name: String, value: String)] = []
        if let questionMark {
            query = try PercentDecoding.decodeQuery(target[(questionMark + 1)...])
        }
        return HTTPRequestHead(
            method: String(decoding: method, as: UTF8.self), path: path, query: query, minorVersion: minorVersion,
            headers: [], contentLength: 0)
    }

    private static func parseHeader(_ line: ArraySlice<UInt8>) throws(HTTPRequestError) -> (String, String) {
        if let first = line.first, first == 32 || first == 9 {
            throw HTTPRequestError(status: 400, "obsolete header line folding is not accepted")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPRequestError(status: 400, "header line without ':'")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw HTTPRequestError(status: 400, "header name is not a token")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 32 || first == 9 { value.removeFirst() }
        while let last = value.last, last == 32 || last == 9 { value.removeLast() }
        guard value.allSatisfy({ $0 >= 32 && $0 != 127 || $0 == 9 }) else {
            throw HTTPRequestError(
                status: 400, "header \(String(decoding: name, as: UTF8.self)) contains a control byte")
        }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self))
    }

    private static func contentLength(of headers: [(name: String, value: String)], limits: HTTPServerLimits)
        throws(HTTPRequestError) -> Int
    {
        if headers.contains(where: { $0.name == "transfer-encoding" }) {
            throw HTTPRequestError(
                status: 501, "Transfer-Encoding (chunked request bodies) is not supported: send Content-Length")
        }
        var length: Int?
        for header in headers where header.name == "content-length" {
            guard !header.value.isEmpty, header.value.utf8.count <= 18,
                header.value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let value = Int(header.value)
            else {
                throw HTTPRequestError(status: 400, "Content-Length is not a decimal number")
            }
            if let length, length != value {
                throw HTTPRequestError(status: 400, "differing Content-Length headers")
            }
            length = value
        }
        let result = length ?? 0
        if result > limits.maxBodyBytes {
            throw HTTPRequestError(status: 413, "request body larger than \(limits.maxBodyBytes) bytes")
        }
        return result
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
