import DanmuCodecs

/// The server side of the HTTP/1.1 upgrade (RFC 6455 §4.2.1): reads a client's request head incrementally up
/// to its blank line, checks it, and builds the answer (§4.2.2). One pass over each byte, a bounded head, the
/// result "need more" / "bad" (thrown) / "done" like picohttpparser. Used by the simulator's ws and wss
/// endpoints; the client's side is `WebSocketHandshake` / `WebSocketHandshakeParser`.
public struct WebSocketUpgradeRequest: Sendable, Equatable {
    /// The request target (`/sub`).
    public var path: String
    /// Header names lowercased, values trimmed, in order.
    public var headers: [(name: String, value: String)]
    /// `Sec-WebSocket-Key` (the base64 of 16 bytes).
    public var key: String

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.path == rhs.path && lhs.key == rhs.key && lhs.headers.elementsEqual(rhs.headers) { $0 == $1 }
    }

    /// The first value of header `name` (lowercase).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// `HTTP/1.1 101 Switching Protocols` with the accept value of `key` (or `acceptOverride`, for a fault).
    public func switchingProtocols(acceptOverride: String? = nil) -> [UInt8] {
        let accept = acceptOverride ?? WebSocketHandshake.acceptValue(forKey: key)
        return Array(
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(accept)\r\n\r\n").utf8)
    }

    /// An error answer (400 for a bad request, 404 for an unknown path), after which the server closes.
    public static func rejection(status: Int, reason: String) -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8)
    }
}

/// Reads one upgrade request head. Throws `WebSocketError` (`.malformedHeader`, `.headerBlockTooLarge`,
/// `.badStatusLine` for a bad request line, `.missingUpgrade`, …) for a request a server must refuse with 400.
public struct WebSocketUpgradeRequestParser: Sendable {
    public enum Progress: Equatable, Sendable {
        case needMore
        /// The head was complete after `bytesConsumed` bytes of the last feed (a client sends nothing more until
        /// the 101, but any bytes after it are its first frames).
        case done(WebSocketUpgradeRequest, bytesConsumed: Int)
    }

    public let maxHeaderBytes: Int
    private var head: [UInt8] = []

    public init(maxHeaderBytes: Int = 8192) { self.maxHeaderBytes = maxHeaderBytes }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(WebSocketError) -> Progress {
        for (index, byte) in bytes.enumerated() {
            head.append(byte)
            if byte == 10, head.count >= 4, head[head.count - 2] == 13, head[head.count - 3] == 10,
                head[head.count - 4] == 13
            {
                let request = try Self.parse(head.dropLast(4))
                head = []
                return .done(request, bytesConsumed: index + 1)
            }
            if head.count >= maxHeaderBytes { throw WebSocketError(.headerBlockTooLarge(limit: maxHeaderBytes)) }
        }
        return .needMore
    }

    public mutating func feed(_ bytes: [UInt8]) throws(WebSocketError) -> Progress {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WebSocketError) in try feed(raw) } }
        return try result.get()
    }

    static func parse(_ head: ArraySlice<UInt8>) throws(WebSocketError) -> WebSocketUpgradeRequest {
        let lines = head.split(separator: 10, omittingEmptySubsequences: false).map { line in
            line.last == 13 ? line.dropLast() : line
        }
        // "GET <target> HTTP/1.1" (§4.2.1 item 1: GET, at least HTTP/1.1).
        let requestLine = String(decoding: lines[0], as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "GET", parts[1].hasPrefix("/"), parts[2] == "HTTP/1.1" else {
            throw WebSocketError(.badStatusLine(requestLine))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                !line[line.startIndex..<colon].contains(where: { $0 <= 32 || $0 == 127 }),
                !line[colon...].contains(where: { ($0 < 32 && $0 != 9) || $0 == 127 })
            else { throw WebSocketError(.malformedHeader(String(decoding: line, as: UTF8.self))) }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = withoutOWS(String(decoding: line[(colon + 1)...], as: UTF8.self))
            headers.append((name, value))
        }
        func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        guard headers.contains(where: { $0.name == "host" }) else { throw WebSocketError(.malformedHeader("Host")) }
        guard value("upgrade")?.lowercased() == "websocket" else { throw WebSocketError(.missingUpgrade) }
        let connection = value("connection")?.lowercased().split(separator: ",").map { withoutOWS(String($0)) }
        guard connection?.contains("upgrade") == true else { throw WebSocketError(.missingConnectionUpgrade) }
        guard value("sec-websocket-version") == "13" else {
            throw WebSocketError(.malformedHeader("Sec-WebSocket-Version: \(value("sec-websocket-version") ?? "")"))
        }
        guard let key = value("sec-websocket-key"), (try? Base64.decode(key))?.count == 16 else {
            throw WebSocketError(.malformedHeader("Sec-WebSocket-Key: \(value("sec-websocket-key") ?? "")"))
        }
        return WebSocketUpgradeRequest(path: String(parts[1]), headers: headers, key: key)
    }
}

/// `text` without leading and trailing spaces and tabs (RFC 9110 §5.5 OWS around a field value).
private func withoutOWS(_ text: String) -> String {
    var scalars = Substring(text)
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
}
