import DanmuCodecs

/// The client's HTTP/1.1 upgrade request (RFC 6455 §4.1), with the headers a desktop browser sends to the live
/// site's `wss://…/sub` (Origin, User-Agent, Cookie), and the check of the server's answer (§4.2.2).
public struct WebSocketHandshake: Sendable {
    /// The GUID of §1.3 appended to the key before hashing.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    public var host: String
    /// Written into `Host` unless it is the scheme's default (80 for ws, 443 for wss).
    public var port: Int
    public var secure: Bool
    public var path: String
    public var origin: String?
    public var userAgent: String?
    public var cookie: String?
    /// The base64 of 16 random bytes (§4.1 item 7).
    public let key: String

    public init(
        host: String, port: Int, secure: Bool, path: String = "/sub", origin: String? = "https://live.bilibili.com",
        userAgent: String? = nil, cookie: String? = nil,
        random: inout some RandomNumberGenerator
    ) {
        self.host = host
        self.port = port
        self.secure = secure
        self.path = path
        self.origin = origin
        self.userAgent = userAgent
        self.cookie = cookie
        var nonce: [UInt8] = []
        for _ in 0..<2 {
            let word = random.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                nonce.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        key = Base64.encode(nonce)
    }

    /// base64(SHA-1(key + GUID)), the value the server must echo in `Sec-WebSocket-Accept`.
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.digest(Array((key + guid).utf8)))
    }

    public var expectedAccept: String { Self.acceptValue(forKey: key) }

    /// The request bytes, headers in a browser's order (Chrome's for a WebSocket), no extension offered.
    public func requestBytes() throws(WebSocketError) -> [UInt8] {
        let defaultPort = secure ? 443 : 80
        let hostHeader = port == defaultPort ? host : "\(host):\(port)"
        var headers: [(String, String)] = [
            ("Host", hostHeader), ("Connection", "Upgrade"), ("Pragma", "no-cache"), ("Cache-Control", "no-cache"),
        ]
        if let userAgent { headers.append(("User-Agent", userAgent)) }
        headers.append(("Upgrade", "websocket"))
        if let origin { headers.append(("Origin", origin)) }
        headers.append(("Sec-WebSocket-Version", "13"))
        headers.append(("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"))
        if let cookie, !cookie.isEmpty { headers.append(("Cookie", cookie)) }
        headers.append(("Sec-WebSocket-Key", key))
        for bad in [("path", path)] + headers where bad.1.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw WebSocketError(.invalidRequestHeader(bad.0))
        }
        if path.utf8.contains(32) { throw WebSocketError(.invalidRequestHeader("path")) }
        var text = "GET \(path) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }
}

/// Reads the server's response head incrementally, up to its blank line, and checks it (RFC 6455 §4.1, client
/// requirements 1–6). Bytes after the blank line are the first frames: `feed` reports where they start.
public struct WebSocketHandshakeParser: Sendable {
    public enum Progress: Equatable, Sendable {
        case needMore
        /// The response is a valid 101; `bytesConsumed` of the last feed belong to it, the rest are frames.
        case done(bytesConsumed: Int)
    }

    public let expectedAccept: String
    public let maxHeaderBytes: Int
    private var head: [UInt8] = []
    private var finished = false

    public init(expectedAccept: String, maxHeaderBytes: Int = 8192) {
        self.expectedAccept = expectedAccept
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Feeds response bytes; throws when the head is invalid or too large. Must not be fed after `.done`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(WebSocketError) -> Progress {
        precondition(!finished, "WebSocketHandshakeParser fed after the handshake completed")
        for (index, byte) in bytes.enumerated() {
            head.append(byte)
            if byte == 10, head.count >= 4, head[head.count - 2] == 13, head[head.count - 3] == 10,
                head[head.count - 4] == 13
            {
                finished = true
                try Self.check(head.dropLast(4), expectedAccept: expectedAccept)
                head = []
                return .done(bytesConsumed: index + 1)
            }
            if head.count >= maxHeaderBytes { throw WebSocketError(.headerBlockTooLarge(limit: maxHeaderBytes)) }
        }
        return .needMore
    }

    public mutating func feed(_ bytes: [UInt8]) throws(WebSocketError) -> Progress {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WebSocketError) in try feed(raw) } }
        return try result.get()
    }

    /// Checks a response head (without its final CRLF CRLF).
    static func check(_ head: ArraySlice<UInt8>, expectedAccept: String) throws(WebSocketError) {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13, i + 1 < head.endIndex, head[i + 1] == 10 {
                lines.append(head[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        let statusLine = String(decoding: lines[0], as: UTF8.self)
        // "HTTP/1.1 101 Switching Protocols": version, a space, 3 digits, a space (the reason may be empty).
        let status = Array(lines[0])
        guard status.count >= 12, status.starts(with: Array("HTTP/1.".utf8)), status[7] >= 48, status[7] <= 57,
            status[8] == 32, status[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 }), status.count == 12 || status[12] == 32
        else { throw WebSocketError(.badStatusLine(statusLine)) }
        let code = status[9...11].reduce(0) { $0 * 10 + Int($1 - 48) }
        if code != 101 {
            let reason = status.count > 13 ? String(decoding: status[13...], as: UTF8.self) : ""
            throw WebSocketError(.unexpectedStatus(code, reason: reason))
        }
        var upgrade = false
        var connection = false
        var accept: String?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(isTokenByte),
                line[colon...].allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) || $0 >= 128 })
            else { throw WebSocketError(.malformedHeader(String(decoding: line, as: UTF8.self))) }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = trim(line[(colon + 1)...])
            switch name {
            case "upgrade": upgrade = upgrade || value.lowercased() == "websocket"
            case "connection":
                connection =
                    connection || value.lowercased().split(separator: ",").contains { trim($0.utf8) == "upgrade" }
            case "sec-websocket-accept": accept = value
            case "sec-websocket-extensions", "sec-websocket-protocol":
                throw WebSocketError(.unrequestedExtension(name))
            default: break
            }
        }
        if !upgrade { throw WebSocketError(.missingUpgrade) }
        if !connection { throw WebSocketError(.missingConnectionUpgrade) }
        guard let accept else { throw WebSocketError(.missingAccept) }
        if accept != expectedAccept { throw WebSocketError(.wrongAccept(expected: expectedAccept, received: accept)) }
    }
}

/// RFC 9110 §5.6.2 tchar.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 48...57, 65...90, 97...122: true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default: false
    }
}

private func trim(_ bytes: some Collection<UInt8>) -> String {
    let array = Array(bytes)
    var lo = 0
    var hi = array.count
    while lo < hi, array[lo] == 32 || array[lo] == 9 { lo += 1 }
    while hi > lo, array[hi - 1] == 32 || array[hi - 1] == 9 { hi -= 1 }
    return String(decoding: array[lo..<hi], as: UTF8.self)
}
