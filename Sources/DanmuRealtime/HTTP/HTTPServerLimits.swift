/// Bounds on what one client may make the server hold, and for how long. Every limit answers with a status and
/// a message (or closes) instead of buffering more. A type of its own (not nested in `HTTPServer`) so that the
/// parser compiles without the reactor, as the fuzz target does (`Fuzz/http`); `HTTPServer.Limits` names it.
public struct HTTPServerLimits: Sendable {
    /// Longest request line (method, target, version), in bytes; longer → 414.
    public var maxRequestLineBytes = 8_192
    /// Most header fields in one request; more → 431.
    public var maxHeaderCount = 64
    /// Largest header block (every header line, CRLFs included), in bytes; larger → 431.
    public var maxHeaderBytes = 16_384
    /// Largest Content-Length body; larger → 413 (before any of it is read).
    public var maxBodyBytes = 65_536
    /// Open connections in total; the next one is answered 503 and closed.
    public var maxConnections = 20_000
    /// Open connections from one IPv4 address; the next one is answered 503 and closed.
    public var maxConnectionsPerAddress = 1_024
    /// A request (head and body) must arrive completely within this time from its first byte (or, for a
    /// connection's first request, from the accept): else 408 and close. Defeats slowloris dribbling.
    public var headerReadTimeout: Duration = .seconds(10)
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// Responses queued and not yet read by a pipelining client, in bytes, above which the connection stops
    /// reading requests until the client catches up.
    public var maxPendingResponseBytes = 1 << 20
    /// SO_SNDBUF of a connection once it streams (SSE, WebSocket); nil keeps the kernel's autotuned buffer.
    /// Without a bound, loopback and LAN autotuning let the kernel hold up to `net.ipv4.tcp_wmem`'s maximum (4 MiB
    /// here) for a subscriber that stopped reading, so the hub's own per-subscriber bound would only bite after
    /// megabytes, and 10,000 stalled subscribers could pin gigabytes of kernel memory. (Linux doubles the value.)
    public var streamSendBufferBytes: Int32? = 64 << 10

    public init() {}
}
