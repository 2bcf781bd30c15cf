extension RoomResolver {
    /// Knobs of the resolver. Base URLs are overridable so tests can point at a loopback stub.
    public struct Configuration: Sendable {
        /// `https://api.live.bilibili.com` (room_init, getDanmuInfo).
        public var liveAPIBase = "https://api.live.bilibili.com"
        /// `https://api.bilibili.com` (nav, finger/spi).
        public var mainAPIBase = "https://api.bilibili.com"
        /// A current desktop browser UA: an outdated one alone earns `-352` (xfgryujk/blivedm#84, 2026-04).
        public var userAgent =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36"
        /// Full Cookie header of a logged-in browser (`SESSDATA=…; bili_jct=…; buvid3=…`), or nil for a guest.
        public var cookie: String?
        /// AUTH uid; when nil and a cookie is given, taken from nav `data.mid`.
        public var uid: Int64?
        /// buvid3; when nil: the cookie's `buvid3`, else finger/spi `b_3`, else a fabricated one.
        public var buvid: String?
        /// At most one HTTP request per interval across all rooms sharing this resolver.
        public var minimumInterval: Duration = .seconds(1)
        /// Per-request timeout (curl `--max-time`).
        public var timeoutSeconds = 10
        /// Attempts per endpoint for retryable failures (-352, HTML, transport).
        public var maxAttempts = 3
        /// First backoff after a retryable failure; doubles per attempt up to `maxBackoff`.
        public var initialBackoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(60)
        /// WBI keys lifetime (BDM caches 11 h 59 m 30 s; keys are also dropped on -352).
        public var wbiKeyLifetime: Duration = .seconds(11 * 3600 + 59 * 60 + 30)
        /// Token lifetime per room; `invalidateToken(room:)` drops one early (auth failure).
        public var tokenLifetime: Duration = .seconds(3600)
        /// Return a key-less endpoint (`"key":""`) on the fallback host when getDanmuInfo keeps failing, warned
        /// once (`ResolverWarning.keyless`). Off by default (issue 16): current servers are reported to close
        /// key-less connections, so a failed getDanmuInfo is a resolution error of that room, retried with backoff.
        public var allowKeylessFallback = false
        /// Always appended to the host list, and the only host of key-less endpoints.
        public var fallbackHost = ServerAddress.broadcastlv
        /// Called once per kind of degradation (see `ResolverWarning`), from the resolving thread.
        public var onWarning: (@Sendable (ResolverWarning) -> Void)?
        /// Called for every retry (with its cause) and buvid trouble, from the resolving thread; nil: silent.
        public var onLog: (@Sendable (String) -> Void)?
        /// A made-up buvid3 (finger/spi failed) is replaced by asking finger/spi again after this long.
        public var buvidRetryInterval: Duration = .seconds(600)

        public init() {}
    }
}
