import EventLoop

/// What a route hands back: a response, or a stream that takes the connection over (SSE, WebSocket).
public enum HTTPRouteResult {
    /// Send this response; the connection stays open for the next request when both sides keep it alive.
    case response(HTTPResponse)
    /// Send `head` (status line and headers, no `Content-Length`), then give the connection to the handler that
    /// `start` makes: every later byte read goes to it, and nothing more is parsed as HTTP.
    case stream(head: HTTPResponse, start: (HTTPStreamConnection) -> any HTTPStreamHandler)
}

/// What a route sees besides the request.
public struct HTTPRouteContext: Sendable {
    /// The values of the pattern's `{name}` segments.
    public var parameters: [String: String]
    /// The client's address.
    public var peer: SocketAddress
}

/// Maps method + path to handlers. Patterns are literal segments and `{name}` segments (`/rooms/{id}`); a path
/// no pattern matches is 404, a matched path without the method is 405 with `Allow`. Loop-confined: routes are
/// added before the server starts and run on the IO thread.
public final class HTTPRouter {
    public typealias Handler = (HTTPRequest, HTTPRouteContext) -> HTTPRouteResult

    private struct Route {
        var segments: [Segment]
        var handlers: [(method: String, handler: Handler)]
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private var routes: [Route] = []

    public init() {}

    /// Adds `handler` for `method` on `pattern` (e.g. `"GET"`, `"/rooms/{id}"`).
    public func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments: [Segment] = Self.split(pattern).map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(part)
        }
        if let index = routes.firstIndex(where: { $0.segments == segments }) {
            routes[index].handlers.append((method, handler))
        } else {
            routes.append(Route(segments: segments, handlers: [(method, handler)]))
        }
    }

    /// Runs the matching handler, or answers 404 / 405.
    public func route(_ request: HTTPRequest, peer: SocketAddress) -> HTTPRouteResult {
        let parts = Self.split(request.path)
        for route in routes {
            guard let parameters = Self.match(route.segments, parts) else { continue }
            let context = HTTPRouteContext(parameters: parameters, peer: peer)
            // HEAD is GET without the body (RFC 9110 §9.3.2); the connection leaves the body out.
            let method = request.method == "HEAD" ? "GET" : request.method
            if let entry = route.handlers.first(where: { $0.method == request.method || $0.method == method }) {
                return entry.handler(request, context)
            }
            var methods = route.handlers.map(\.method)
            if methods.contains("GET") { methods.append("HEAD") }
            let allowed = methods.joined(separator: ", ")
            return .response(
                .text(
                    405, "method \(request.method) is not allowed on \(request.path); allowed: \(allowed)",
                    headers: [("Allow", allowed)]))
        }
        return .response(.text(404, "no such path: \(request.path)"))
    }

    private static func split(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
    }

    private static func match(_ segments: [Segment], _ parts: [String]) -> [String: String]? {
        // "/" splits to [""]: the root pattern has one empty literal segment.
        guard segments.count == parts.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let literal): guard literal == part else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = part
            }
        }
        return parameters
    }
}
