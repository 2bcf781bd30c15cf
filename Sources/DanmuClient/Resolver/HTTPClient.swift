/// A blocking HTTP GET seam. The resolver talks to Bilibili's HTTP APIs through this so tests can
/// point it at a loopback stub; production uses `CurlHTTPClient` (the system `curl` binary).
protocol HTTPClient: Sendable {
    /// Performs one GET. Blocking: call from a non-loop thread.
    func get(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse
}

/// One GET request.
struct HTTPRequest: Sendable, Equatable {
    var url: String
    /// Extra request headers (name, value), e.g. Referer/Origin.
    var headers: [HTTPHeader]
    /// The `Cookie` header value, kept off the command line (see `CurlHTTPClient`).
    var cookie: String?
    var userAgent: String
    /// Whole-request timeout in seconds.
    var timeoutSeconds: Int

    init(
        url: String, headers: [HTTPHeader] = [], cookie: String? = nil, userAgent: String,
        timeoutSeconds: Int = 10
    ) {
        self.url = url
        self.headers = headers
        self.cookie = cookie
        self.userAgent = userAgent
        self.timeoutSeconds = timeoutSeconds
    }
}

/// A header name/value pair.
struct HTTPHeader: Sendable, Equatable {
    var name: String
    var value: String
    init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A received answer: status, headers of the final response, body bytes.
struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var headers: [HTTPHeader]
    var body: [UInt8]

    init(status: Int, headers: [HTTPHeader] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// First header with this name (case-insensitive).
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// Values of every `Set-Cookie` header's first `name=value` pair, as (name, value).
    var setCookies: [(name: String, value: String)] {
        headers.filter { $0.name.lowercased() == "set-cookie" }.compactMap { header in
            let pair = header.value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            return (String(pair[..<eq]).trimmingSpaces, String(pair[pair.index(after: eq)...]).trimmingSpaces)
        }
    }
}

/// Why a request produced no HTTP response.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The helper process could not be started (errno of posix_spawn / pipe).
    case spawnFailed(String)
    /// curl exited non-zero: its exit code and stderr (e.g. 28 = timeout, 7 = could not connect).
    case transportFailed(exitCode: Int32, message: String)
    /// The output was not a parsable HTTP response.
    case malformedResponse(String)
    /// The body exceeded the size limit.
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .spawnFailed(let why): return "could not start curl: \(why)"
        case .transportFailed(let code, let message):
            return "curl exited with \(code)\(code == 28 ? " (timeout)" : ""): \(message)"
        case .malformedResponse(let why): return "malformed HTTP response: \(why)"
        case .tooLarge(let n): return "HTTP response larger than \(n) bytes"
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
