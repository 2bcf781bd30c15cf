extension DanmuCollector.Configuration {
    /// How a room's connection reaches the server (docs/protocol.md §3). The packets are the same on all three; only
    /// the layers under them differ (`TransportStack`).
    public enum Transport: String, Sendable, CaseIterable {
        /// Raw TCP to `port` (2243): the cheapest per room.
        case tcp
        /// WebSocket to `ws://host:wsPort/sub` (2244).
        case ws
        /// WebSocket over TLS to `wss://host:wssPort/sub` (443 or 2245): what browsers use.
        case wss
        /// TCP first; a room whose TCP attempts fail `autoFallbackAfterFailures` times in a row before going live
        /// (refused, timed out, closed or rejected during auth) switches to wss for the rest of its life. Issue 15:
        /// "prefers the cheapest transport and falls back to wss when a host refuses or closes it during auth".
        case auto
    }

    /// The HTTP/1.1 upgrade request of ws and wss (`WebSocketHandshake`), as a desktop browser sends it.
    public struct WebSocketOptions: Sendable {
        public var path = "/sub"
        /// The live site ties its web token to the browser's User-Agent; nil sends none.
        public var userAgent: String? = WebSocketOptions.browserUserAgent
        public var origin: String? = "https://live.bilibili.com"
        /// Sent as `Cookie` (e.g. `buvid3=…; SESSDATA=…`); nil or empty sends none.
        public var cookie: String?
        /// Largest accepted WebSocket frame and message (a message holds whole packets: ≥ `maxPacketLength`).
        public var limits = WebSocketFrameDecoder.Limits()

        /// A current desktop Chrome's User-Agent.
        public static let browserUserAgent =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            + "Safari/537.36"

        public init() {}
    }

    /// Certificate checking for wss.
    public struct TLSOptions: Sendable, Equatable {
        /// The system CA store by default; `.caFile(path)` for a private CA (tests); `.insecureNoVerification`
        /// turns every check off (the CLI warns loudly).
        public var verification = TLSVerification.systemTrustStore
        /// The name sent as SNI and checked against the certificate, instead of the server's host (a fixed
        /// server given as an IP literal that serves a named certificate). nil: the host.
        public var serverName: String?

        public init(verification: TLSVerification = .systemTrustStore, serverName: String? = nil) {
            self.verification = verification
            self.serverName = serverName
        }
    }
}
