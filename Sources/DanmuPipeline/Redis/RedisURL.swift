import EventLoop

/// `redis://[user[:password]@]host[:port][/db][?stream=KEY&room_stream=PREFIX&maxlen=N&publish=CHANNEL&writer=ID]`.
///
/// - host: an IPv4 address or `localhost` (the reactor connects to IPv4 addresses; no resolver here).
/// - port 6379, db 0 by default. user and password are percent-decoded; a password alone is `AUTH password`,
///   with a user it is `AUTH user password` (ACL).
/// - `stream`: XADD every record to this stream; `room_stream`: also (or only) to `PREFIX<room>`;
///   `publish`: PUBLISH the JSON to this channel. With none of them, `stream=danmu`.
/// - `maxlen`: `XADD … MAXLEN ~ N` (approximate trimming; 0 = none). Default 1,000,000.
/// - `writer`: this writer's name for its in-doubt token (see `RedisSink`): give every writer of a stream its
///   own, the same across restarts. `danmu-cli` derives one from the host name and the spool path when unset.
public struct RedisURL: Sendable, Equatable {
    public var host: String
    public var port: UInt16 = 6379
    public var database = 0
    public var user: String?
    public var password: String?
    public var stream: String?
    public var roomStreamPrefix: String?
    public var publishChannel: String?
    public var maxLength = 1_000_000
    /// The writer's name in its token key; nil: none given (the key is the stream's, for one writer).
    public var writer: String?

    public init(parsing text: String) throws(PipelineError) {
        func bad(_ why: String) -> PipelineError { .invalidConfiguration("bad Redis URL \(text): \(why)") }
        guard text.hasPrefix("redis://") else { throw bad("it must start with redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = try Self.percentDecoded(credentials[..<colon], bad)
                self.user = user.isEmpty ? nil : user
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...], bad)
            } else {
                // `redis://secret@host`: a password alone, as redis-cli -u reads it.
                password = try Self.percentDecoded(credentials, bad)
            }
        }
        var hostPart = rest
        if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            guard let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else { throw bad("bad port") }
            self.port = port
        }
        guard !hostPart.isEmpty else { throw bad("no host") }
        host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        guard (try? SocketAddress(ipv4: host, port: port)) != nil else {
            throw bad("host must be an IPv4 address or localhost")
        }
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw bad("the path must be a database number") }
            database = db
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? try Self.percentDecoded(parts[1], bad) : ""
            switch key {
            case "stream": stream = value
            case "room_stream": roomStreamPrefix = value
            case "publish": publishChannel = value
            case "writer":
                guard !value.isEmpty else { throw bad("writer must not be empty") }
                writer = value
            case "maxlen":
                guard let n = Int(value), n >= 0 else { throw bad("maxlen must be a number ≥ 0") }
                maxLength = n
            default: throw bad("unknown option \(key) (stream, room_stream, publish, maxlen, writer)")
            }
        }
        if stream == nil && roomStreamPrefix == nil && publishChannel == nil { stream = "danmu" }
    }

    public var address: SocketAddress {
        // Checked in init.
        try! SocketAddress(ipv4: host, port: port)
    }

    private static func percentDecoded(_ text: Substring, _ bad: (String) -> PipelineError) throws(PipelineError)
        -> String
    {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard bytes.count >= 2, let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
                else { throw bad("bad percent escape") }
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
