/// One parsed HTTP/1.x request: the request line, the headers in arrival order and a Content-Length body.
///
/// The path and the query are percent-decoded by `HTTPRequestParser` (a bad escape is a 400 there), so routes
/// compare plain strings.
public struct HTTPRequest: Sendable {
    /// The method token as sent (`GET`, `POST`, …); methods are case-sensitive (RFC 9110 §9.1).
    public var method: String
    /// The request target's path, percent-decoded (`/rooms/42`).
    public var path: String
    /// The query's name/value pairs in order, percent-decoded, `+` read as a space; empty without a query.
    public var query: [(name: String, value: String)]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Header names lower-cased, values with surrounding blanks trimmed, in arrival order.
    public var headers: [(name: String, value: String)]
    /// The body (Content-Length bytes; empty without one).
    public var body: [UInt8]

    public init(
        method: String, path: String, query: [(name: String, value: String)] = [], minorVersion: Int = 1,
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (any case), nil when absent.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// The first value of query parameter `name`, nil when absent.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only
    /// with `Connection: keep-alive` (RFC 9112 §9.3).
    public var keepAlive: Bool {
        let tokens = headers.filter { $0.name == "connection" }
            .flatMap { $0.value.lowercased().split(separator: ",") }
            .map { $0.trimmingBlanks() }
        if tokens.contains("close") { return false }
        return minorVersion >= 1 || tokens.contains("keep-alive")
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingBlanks() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

/// Why a request could not be parsed, with the status it is answered with and a message for the body.
public struct HTTPRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status code of the answer (400, 408, 411, 413, 414, 431, 501, 505).
    public var status: Int
    /// What is wrong, for the response body.
    public var message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }
}
