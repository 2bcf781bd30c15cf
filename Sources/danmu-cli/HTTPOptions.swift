import DanmuClient
import DanmuPipeline
import DanmuRealtime
import EventLoop
import Glibc

/// `listen --http HOST:PORT [--http-token-file FILE]`: the realtime server (live page, SSE/WebSocket, metrics,
/// room control) beside the usual output. Loopback unless another address is given explicitly.
struct HTTPOptions {
    /// Where to listen; nil without --http.
    var address: SocketAddress? = nil
    /// The bearer token for POST/DELETE /rooms/{id} (first line of --http-token-file); nil refuses them.
    var token: String? = nil

    var isActive: Bool { address != nil }

    static let specs: [OptionSpec] = [
        OptionSpec(
            name: "http", valueName: "[HOST:]PORT",
            help: "serve the live page, /events, /ws, /metrics, /rooms there (PORT alone: 127.0.0.1; docs/http.md)"),
        OptionSpec(
            name: "http-token-file", valueName: "FILE",
            help: "bearer token (first line of FILE) that POST/DELETE /rooms/{id} require; without it they are refused"),
    ]

    static func from(_ arguments: ParsedArguments) throws(UsageError) -> HTTPOptions {
        var options = HTTPOptions()
        if let text = arguments.string("http") {
            options.address = try parseAddress(text)
        }
        if let path = arguments.string("http-token-file") {
            guard options.isActive else { throw UsageError("--http-token-file needs --http") }
            options.token = try readToken(path)
        }
        return options
    }

    /// `PORT` (loopback) or `HOST:PORT` with an IPv4 address or a name that resolves to one; port 0 = any free.
    static func parseAddress(_ text: String) throws(UsageError) -> SocketAddress {
        let hostPort: HostPort
        if !text.contains(":") {
            guard let port = UInt16(text) else {
                throw UsageError("--http must be PORT or HOST:PORT, got \(quoted(text))")
            }
            hostPort = HostPort(host: "127.0.0.1", port: port)
        } else {
            hostPort = try HostPort.parse(text, option: "http", allowZero: true)
        }
        let ipv4: String
        switch hostPort.resolveIPv4() {
        case .success(let resolved): ipv4 = resolved
        case .failure(let error): throw UsageError("--http: \(error.message)")
        }
        do throws(SystemError) {
            return try SocketAddress(ipv4: ipv4, port: hostPort.port)
        } catch {
            throw UsageError("--http: \(quoted(text)) is not an IPv4 address and port")
        }
    }

    /// The first line of `path`, blanks trimmed; a missing, unreadable or empty file is a usage error.
    static func readToken(_ path: String) throws(UsageError) -> String {
        let bytes: [UInt8]
        switch Posix.readFile(path) {
        case .success(let read): bytes = read
        case .failure(let error): throw UsageError("--http-token-file: \(error.description)")
        }
        let firstLine =
            String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .first ?? ""
        let token = firstLine.trimmingWhitespace()
        guard !token.isEmpty else {
            throw UsageError("--http-token-file: the first line of \(path) is empty (it must hold the token)")
        }
        return String(token)
    }

    /// The running server's parts: its own reactor (the collector's is private), the hub and the server.
    final class Realtime: Sendable {
        let reactor: Reactor
        let hub: EventHub
        private let server = Lock<RealtimeServer?>(nil)

        init() throws(SystemError) {
            reactor = try Reactor()
            try reactor.start()
            hub = EventHub(reactor: reactor)
        }

        /// Listens; returns the URL to print, or the message of why not.
        func start(
            collector: DanmuCollector, options: HTTPOptions, warnings: WarningLog, pipeline: Pipeline?
        ) -> Result<String, RealtimeServerError> {
            var configuration = RealtimeServer.Configuration(address: options.address ?? .loopback(port: 8080))
            configuration.token = options.token
            configuration.onAlarm = { alarm in warnings.warn(cause: "alarm \(alarm)", "\(alarm)") }
            if let pipeline {
                configuration.sinkStatistics = { pipeline.sinks.map { (name: $0.name, statistics: $0.statistics) } }
            }
            let server = RealtimeServer(reactor: reactor, collector: collector, hub: hub, configuration: configuration)
            do throws(RealtimeServerError) {
                let address = try server.start()
                self.server.withLock { $0 = server }
                return .success("http://\(address)/")
            } catch {
                return .failure(error)
            }
        }

        /// Closes the server, its subscribers and its reactor. Idempotent.
        func close() {
            server.withLock { $0 }?.close()
            hub.close()
            reactor.shutdown()
        }
    }
}
