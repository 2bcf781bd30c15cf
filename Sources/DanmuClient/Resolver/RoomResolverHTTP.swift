import DanmuCodecs
import EventLoop
import Glibc

/// HTTP plumbing of `RoomResolver`: paced GETs, the JSON envelope, retries with backoff, cookies.
extension RoomResolver {
    /// One paced GET whose answer must be JSON. HTML or unparsable text is `.notJSON` (risk control).
    func getJSON(_ url: String, cookie: String?) throws(ResolveError) -> JSONDocument {
        pacer.waitForSlot()
        let request = HTTPRequest(
            url: url,
            headers: [
                HTTPHeader("Referer", "https://live.bilibili.com/"), HTTPHeader("Origin", "https://live.bilibili.com"),
            ],
            cookie: cookie, userAgent: configuration.userAgent, timeoutSeconds: configuration.timeoutSeconds)
        let response: HTTPResponse
        do throws(HTTPError) { response = try http.get(request) } catch { throw .transport(url: url, error) }
        let snippet = String(decoding: response.body.prefix(120), as: UTF8.self)
        guard let document = try? JSONDocument(parsing: response.body, maxDepth: 32),
            document.root.kind == .object
        else {
            throw .notJSON(url: url, status: response.status, snippet: snippet)
        }
        return document
    }

    /// Checks `code` of a `{code, message, data}` envelope and returns `data`.
    func envelope(_ root: JSONNode, url: String, notFound: Set<Int64>, room: Int64) throws(ResolveError) -> JSONNode {
        guard let code = root["code"]?.int64Lenient else { throw .malformed(url: url, what: "no code") }
        if code == -352 { throw .riskControl(url: url) }
        if code != 0 {
            if notFound.contains(code) { throw .roomNotFound(room) }
            let message = root["message"]?.string ?? root["msg"]?.string ?? ""
            throw .api(url: url, code: code, message: message)
        }
        guard let data = root["data"], data.kind == .object else { throw .malformed(url: url, what: "no data object") }
        return data
    }

    /// Runs `body` up to `maxAttempts` times. Risk-control answers drop the WBI keys (they may have rotated)
    /// and delay every request of the shared pacer, not just this one.
    func withRetries<T>(_ body: () throws(ResolveError) -> T) throws(ResolveError) -> T {
        var delay = configuration.initialBackoff
        var attempt = 1
        while true {
            do throws(ResolveError) {
                return try body()
            } catch {
                guard error.isRetryable, attempt < configuration.maxAttempts else { throw error }
                switch error {
                case .riskControl, .notJSON:
                    dropSigner()
                    pacer.penalise(for: delay)
                    log(
                        "\(error); WBI keys dropped (nav is fetched again), retry \(attempt + 1)/\(configuration.maxAttempts) in \(delay)"
                    )
                default:
                    log("\(error); retry \(attempt + 1)/\(configuration.maxAttempts) in \(delay)")
                }
                HTTPRequestPacer.sleep(until: ContinuousClock.now + delay, clock: ContinuousClock())
                delay = min(delay * 2, configuration.maxBackoff)
                attempt += 1
            }
        }
    }

    /// The Cookie header: the configured cookie plus `buvid3` / `buvid4` when it lacks them.
    func cookieHeader(buvid: String?) -> String? {
        var parts: [String] = []
        if let cookie = configuration.cookie, !cookie.isEmpty { parts.append(cookie) }
        if let buvid, RoomResolver.cookieValue("buvid3", in: configuration.cookie) == nil {
            parts.append("buvid3=\(buvid)")
        }
        if let buvid4 = currentBuvid4(), RoomResolver.cookieValue("buvid4", in: configuration.cookie) == nil {
            parts.append("buvid4=\(buvid4)")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// The value of `name` in a `a=b; c=d` cookie string.
    static func cookieValue(_ name: String, in cookie: String?) -> String? {
        guard let cookie else { return nil }
        for pair in cookie.split(separator: ";") {
            let trimmed = String(pair).trimmingSpaces
            guard let eq = trimmed.firstIndex(of: "="), trimmed[..<eq] == name else { continue }
            let value = String(trimmed[trimmed.index(after: eq)...])
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXXinfoc` (uppercase hex; the last group ends with the time in ms
    /// like BUP's), used only when finger/spi is unavailable.
    static func fabricateBuvid() -> String {
        var generator = SystemRandomNumberGenerator()
        func hex(_ count: Int) -> String {
            String((0..<count).map { _ in Array("0123456789ABCDEF")[Int(generator.next() % 16)] })
        }
        let millis = String(unixSeconds() * 1000 % 100_000)
        let tail = String(repeating: "0", count: max(0, 5 - millis.count)) + millis
        return "\(hex(8))-\(hex(4))-\(hex(4))-\(hex(4))-\(hex(7))\(tail)infoc"
    }

    static func unixSeconds() -> Int64 { SystemClock.realtimeNanoseconds() / 1_000_000_000 }

    static func port(_ node: JSONNode?, _ fallback: UInt16) -> UInt16 {
        guard let value = node?.int64Lenient, value > 0, value <= 65535 else { return fallback }
        return UInt16(value)
    }

    /// One line of what the resolver is doing (retries, buvid trouble) for the caller's log.
    func log(_ line: String) { configuration.onLog?(line) }

    func warnOnce(_ key: String, _ warning: ResolverWarning) {
        let first = insertWarned(key)
        if first { configuration.onWarning?(warning) }
    }
}
