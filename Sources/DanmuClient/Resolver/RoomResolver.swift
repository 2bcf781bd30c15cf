import DanmuCodecs
import EventLoop
import Glibc

/// Turns a room id (short or long) into a `RoomEndpoint`: real room id (room_init), buvid3 (finger/spi or
/// fabricated), WBI keys (nav), WBI-signed getDanmuInfo → token + hosts (docs/protocol.md §2).
///
/// Blocking, thread-safe: call from worker/resolver threads, never the IO thread. Keys, buvid, uid and
/// tokens are cached; every HTTP request passes the shared `HTTPRequestPacer` (≤ 1/s by default).
/// `-352` and non-JSON answers drop the WBI keys, penalise the pacer and retry with exponential backoff.
public final class RoomResolver: Sendable {
    public let configuration: Configuration
    let pacer: HTTPRequestPacer
    let http: any HTTPClient
    private let clock = ContinuousClock()

    private struct State {
        var signer: (WBISigner, ContinuousClock.Instant)?
        var buvid: String?
        /// finger/spi `b_4`, sent as the `buvid4` cookie (reported required since 2025-07).
        var buvid4: String?
        /// When `buvid` is a fabricated one: finger/spi is asked again after `buvidRetryInterval`.
        var fabricatedAt: ContinuousClock.Instant?
        var uid: Int64?
        var longIDs: [Int64: Int64] = [:]
        var tokens: [Int64: (RoomEndpoint, ContinuousClock.Instant)] = [:]
        var warned: Set<String> = []
        var keylessCount = 0
    }
    // Guarded by itself; never held across an HTTP request.
    private let state = Lock(State())

    /// A resolver that reaches the live site through the system `curl` binary, at most one request per
    /// `configuration.minimumInterval`.
    public convenience init(configuration: Configuration = .init()) {
        self.init(configuration: configuration, http: CurlHTTPClient(), pacer: nil)
    }

    /// - Parameters:
    ///   - http: the HTTP transport (tests pass a loopback stub).
    ///   - pacer: share one pacer between resolvers to pace them together; default: a new one at
    ///     `configuration.minimumInterval`.
    init(configuration: Configuration, http: any HTTPClient, pacer: HTTPRequestPacer? = nil) {
        self.configuration = configuration
        self.http = http
        self.pacer = pacer ?? HTTPRequestPacer(minimumInterval: configuration.minimumInterval)
    }

    /// How many endpoints were handed out key-less so far.
    public var keylessFallbackCount: Int { state.withLock { $0.keylessCount } }

    /// Drops a room's cached token (after an auth failure) so the next `resolve` fetches a new one.
    public func invalidateToken(room: Int64) {
        state.withLock { state in
            let long = state.longIDs[room] ?? room
            state.tokens[long] = nil
        }
    }

    /// Resolves one room. Throws when the room cannot be identified, or getDanmuInfo keeps failing and
    /// `allowKeylessFallback` is off (the default).
    public func resolve(room: Int64) throws(ResolveError) -> RoomEndpoint {
        // buvid3 first: room_init and nav already go out with it, as a browser's requests do.
        let buvid = ensureBuvid()
        let longID = try realRoomID(room)
        let now = clock.now
        if let cached: RoomEndpoint = state.withLock({ state in
            guard let (endpoint, at) = state.tokens[longID], now - at < configuration.tokenLifetime else { return nil }
            return endpoint
        }) {
            return cached
        }
        let uid = try ensureUID()
        if uid == 0 { warnOnce("guest", .guest) }
        do throws(ResolveError) {
            let (token, hosts) = try withRetries { () throws(ResolveError) in try fetchDanmuInfo(longID, buvid: buvid) }
            var list = hosts.filter { !$0.host.isEmpty }
            let fallback = configuration.fallbackHost
            if !list.contains(where: { $0.host == fallback.host && $0.port == fallback.port }) { list.append(fallback) }
            let endpoint = RoomEndpoint(
                roomID: longID, requestedID: longID == room ? nil : room, token: token,
                servers: list, uid: uid, buvid: buvid)
            state.withLock { $0.tokens[longID] = (endpoint, clock.now) }
            return endpoint
        } catch {
            guard configuration.allowKeylessFallback, error.isRetryable else { throw error }
            state.withLock { $0.keylessCount += 1 }
            warnOnce("keyless", .keyless(room: longID, reason: error.description))
            return RoomEndpoint(
                roomID: longID, requestedID: longID == room ? nil : room, token: nil,
                servers: [configuration.fallbackHost], uid: uid, buvid: buvid)
        }
    }

    func dropSigner() { state.withLock { $0.signer = nil } }
    func insertWarned(_ key: String) -> Bool { state.withLock { $0.warned.insert(key).inserted } }

    // MARK: - Steps

    /// room_init: short → long id (cached; a long id maps to itself).
    func realRoomID(_ room: Int64) throws(ResolveError) -> Int64 {
        if let known = state.withLock({ $0.longIDs[room] }) { return known }
        let url = configuration.liveAPIBase + "/room/v1/Room/room_init?id=\(room)"
        let long = try withRetries { () throws(ResolveError) -> Int64 in
            let document = try getJSON(url, cookie: cookieHeader(buvid: state.withLock { $0.buvid }))
            let data = try envelope(document.root, url: url, notFound: [60004, 1], room: room)
            guard let id = data["room_id"]?.int64Lenient, id > 0 else {
                throw .malformed(url: url, what: "data.room_id missing")
            }
            return id
        }
        state.withLock {
            $0.longIDs[room] = long
            $0.longIDs[long] = long
        }
        return long
    }

    /// buvid3 from configuration, the cookie, finger/spi, or fabricated (BUP does this, docs/protocol.md §2.3).
    /// A fabricated one is kept only until `buvidRetryInterval` has passed; finger/spi is then asked again, so a
    /// passing failure does not leave every later request with a made-up id.
    func ensureBuvid() -> String {
        let now = clock.now
        let retryAfter = configuration.buvidRetryInterval
        if let known = state.withLock({ state -> String? in
            guard let buvid = state.buvid else { return nil }
            if let at = state.fabricatedAt, now - at >= retryAfter { return nil }
            return buvid
        }) {
            return known
        }
        var buvid = configuration.buvid ?? RoomResolver.cookieValue("buvid3", in: configuration.cookie)
        var buvid4: String?
        if buvid == nil {
            let url = configuration.mainAPIBase + "/x/frontend/finger/spi"
            if let document = try? getJSON(url, cookie: configuration.cookie),
                let data = try? envelope(document.root, url: url, notFound: [], room: 0),
                let b3 = data["b_3"]?.string, !b3.isEmpty
            {
                buvid = b3
                buvid4 = data["b_4"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            } else {
                log("finger/spi gave no buvid3: using a made-up one, asking again in \(retryAfter)")
            }
        }
        let found = buvid
        return state.withLock { state in
            if state.buvid == nil || state.fabricatedAt != nil {
                if let found {
                    state.buvid = found
                    state.buvid4 = buvid4 ?? state.buvid4
                    state.fabricatedAt = nil
                } else {
                    if state.buvid == nil { state.buvid = RoomResolver.fabricateBuvid() }
                    state.fabricatedAt = now
                }
            }
            return state.buvid!
        }
    }

    /// The buvid3 in use (nil before the first request) and whether it is a made-up one.
    public var currentBuvid: (buvid3: String?, buvid4: String?, fabricated: Bool) {
        state.withLock { ($0.buvid, $0.buvid4, $0.fabricatedAt != nil) }
    }

    func currentBuvid4() -> String? { state.withLock { $0.buvid4 } }

    /// AUTH uid: configured, else nav `mid` when a SESSDATA cookie is given, else 0.
    func ensureUID() throws(ResolveError) -> Int64 {
        if let uid = configuration.uid { return uid }
        if let known = state.withLock({ $0.uid }) { return known }
        guard RoomResolver.cookieValue("SESSDATA", in: configuration.cookie) != nil else { return 0 }
        _ = try withRetries { () throws(ResolveError) in try signer() }
        return state.withLock { $0.uid } ?? 0
    }

    /// WBI keys from nav (cached `wbiKeyLifetime`). nav answers `-101` logged out but still carries `wbi_img`.
    func signer() throws(ResolveError) -> WBISigner {
        let now = clock.now
        if let (signer, at) = state.withLock({ $0.signer }), now - at < configuration.wbiKeyLifetime { return signer }
        let url = configuration.mainAPIBase + "/x/web-interface/nav"
        let document = try getJSON(url, cookie: cookieHeader(buvid: state.withLock { $0.buvid }))
        let root = document.root
        if root["code"]?.int64Lenient == -352 { throw .riskControl(url: url) }
        guard let image = root["data"]?["wbi_img"], let img = image["img_url"]?.string,
            let sub = image["sub_url"]?.string, let signer = WBISigner(imgURL: img, subURL: sub)
        else {
            throw .malformed(url: url, what: "data.wbi_img.img_url/sub_url missing")
        }
        let mid = root["data"]?["mid"]?.int64Lenient
        let loggedIn = root["data"]?["isLogin"]?.bool ?? (mid ?? 0 > 0)
        state.withLock {
            $0.signer = (signer, now)
            if loggedIn, let mid, mid > 0 { $0.uid = mid }
        }
        return signer
    }

    /// WBI-signed getDanmuInfo → (token, host list).
    func fetchDanmuInfo(_ room: Int64, buvid: String) throws(ResolveError) -> (String, [ServerAddress]) {
        let signer = try signer()
        let query = signer.signedQuery(
            [("id", String(room)), ("type", "0"), ("web_location", "444.8")],
            wts: RoomResolver.unixSeconds())
        let url = configuration.liveAPIBase + "/xlive/web-room/v1/index/getDanmuInfo?" + query
        let document = try getJSON(url, cookie: cookieHeader(buvid: buvid))
        let data = try envelope(document.root, url: url, notFound: [1_002_002], room: room)
        guard let token = data["token"]?.string, !token.isEmpty else {
            throw .malformed(url: url, what: "data.token missing")
        }
        var hosts: [ServerAddress] = []
        for index in 0..<(data["host_list"]?.count ?? 0) {
            guard let entry = data["host_list"]?[index], let host = entry["host"]?.string else { continue }
            hosts.append(
                ServerAddress(
                    host: host, port: RoomResolver.port(entry["port"], 2243),
                    wsPort: RoomResolver.port(entry["ws_port"], 2244),
                    wssPort: RoomResolver.port(entry["wss_port"], 443)))
        }
        return (token, hosts)
    }
}
