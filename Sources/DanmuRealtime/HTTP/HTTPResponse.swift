/// One HTTP/1.1 response: status, headers and body. `serialized` adds `Content-Length` and, when the connection
/// closes after it, `Connection: close`; no `Date` header (RFC 9110 §6.6.1 lets a server without a clock omit it).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers in order; `Content-Length` and `Connection` are written by `serialized`, do not add them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain` response whose body is `message` and a line feed (errors say what is wrong).
    public static func text(_ status: Int, _ message: String, headers: [(name: String, value: String)] = [])
        -> HTTPResponse
    {
        HTTPResponse(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: Array((message + "\n").utf8))
    }

    /// An `application/json` response.
    public static func json(_ body: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: body)
    }

    /// The status line, the headers, `Content-Length` (and `Connection: close` unless `keepAlive`), the body
    /// (left out for a HEAD request, whose `Content-Length` is still the body's).
    public func serialized(keepAlive: Bool, includeBody: Bool = true) -> [UInt8] {
        var text = statusLineAndHeaders()
        text += "Content-Length: \(body.count)\r\n"
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        return includeBody ? Array(text.utf8) + body : Array(text.utf8)
    }

    /// The status line and headers only, for a response whose body is a stream written later (no length).
    public func serializedHead() -> [UInt8] {
        Array((statusLineAndHeaders() + "\r\n").utf8)
    }

    private func statusLineAndHeaders() -> String {
        var text = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for (name, value) in headers {
            // A value with CR or LF would split the response: routes never produce one, but never emit it.
            precondition(!value.utf8.contains(where: { $0 == 13 || $0 == 10 }), "header \(name) contains CR/LF")
            text += "\(name): \(value)\r\n"
        }
        return text
    }

    /// The reason phrase of the statuses this server sends.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 426: "Upgrade Required"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}
