/// Why a room could not be resolved.
public enum ResolveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// curl could not complete the request.
    case transport(url: String, HTTPError)
    /// An answer that is not JSON (risk control serves HTML pages, docs/protocol.md §2.1).
    case notJSON(url: String, status: Int, snippet: String)
    /// `code -352`: risk control (missing/bad WBI signature, buvid3, outdated User-Agent, flagged IP).
    case riskControl(url: String)
    /// The room does not exist (room_init `60004`, get_info `1`).
    case roomNotFound(Int64)
    /// Any other non-zero `code`.
    case api(url: String, code: Int64, message: String)
    /// JSON with an unexpected shape.
    case malformed(url: String, what: String)

    public var description: String {
        switch self {
        case .transport(let url, let error): return "\(url): \(error)"
        case .notJSON(let url, let status, let snippet):
            return "\(url): HTTP \(status) answer is not JSON (risk control page?): \(snippet)"
        case .riskControl(let url):
            return "\(url): code -352 risk control — check WBI keys, buvid3 and that the User-Agent is current"
        case .roomNotFound(let id): return "room \(id) does not exist"
        case .api(let url, let code, let message): return "\(url): code \(code) \(message)"
        case .malformed(let url, let what): return "\(url): unexpected answer: \(what)"
        }
    }

    /// Whether backing off and retrying may help.
    public var isRetryable: Bool {
        switch self {
        case .transport, .notJSON, .riskControl: return true
        case .roomNotFound, .api, .malformed: return false
        }
    }
}

/// Things the resolver reports once so the user knows the data is degraded.
public enum ResolverWarning: Sendable, Equatable, CustomStringConvertible {
    /// No token could be fetched; connecting key-less to the fallback host.
    case keyless(room: Int64, reason: String)
    /// No login cookie: the server masks names (uid 0, "x***") for guests since 2023-06-30.
    case guest

    public var description: String {
        switch self {
        case .keyless(let room, let reason):
            return "room \(room): no danmaku token (\(reason)); connecting key-less to broadcastlv — "
                + "names may be masked and messages sampled"
        case .guest:
            return "no login cookie: user names may be masked and uids 0 (pass a SESSDATA cookie to see them)"
        }
    }
}
