import DanmuPipeline
import EventLoop

extension RealtimeServer {
    /// How the realtime server listens, what it allows and how it warns.
    public struct Configuration: Sendable {
        /// Where to listen; loopback unless another address is given explicitly (port 0: any free port).
        public var address: SocketAddress
        /// The HTTP limits (request sizes, connections, timeouts).
        public var limits: HTTPServer.Limits
        /// The bearer token that `POST /rooms/{id}` and `DELETE /rooms/{id}` require; nil refuses them (403).
        public var token: String?
        /// Origins allowed to open `/ws` besides the server's own (`http://<Host>` / `https://<Host>`), e.g.
        /// `"https://dashboard.example"`. A request without `Origin` (not a browser) is allowed.
        public var allowedOrigins: Set<String>
        /// When a room counts as silent, for the alarms.
        public var alarms: RoomAlarmMonitor.Configuration
        /// How often the alarms (and the health checks) look at the collector's statistics.
        public var alarmCheckInterval: Duration
        /// When `/healthz` answers 503 instead of 200.
        public var health: HealthThresholds
        /// Called on the IO thread once per raised alarm (the CLI prints it on stderr). Must not block.
        public var onAlarm: (@Sendable (RoomAlarm) -> Void)?
        /// The sinks' counters for `/metrics` (called on the IO thread at each scrape; must not block).
        public var sinkStatistics: (@Sendable () -> [(name: String, statistics: SinkStatistics)])?

        public init(
            address: SocketAddress = .loopback(port: 8080), limits: HTTPServer.Limits = .init(), token: String? = nil,
            allowedOrigins: Set<String> = [], alarms: RoomAlarmMonitor.Configuration = .init(),
            alarmCheckInterval: Duration = .seconds(5), health: HealthThresholds = .init(),
            onAlarm: (@Sendable (RoomAlarm) -> Void)? = nil,
            sinkStatistics: (@Sendable () -> [(name: String, statistics: SinkStatistics)])? = nil
        ) {
            self.address = address
            self.limits = limits
            self.token = token
            self.allowedOrigins = allowedOrigins
            self.alarms = alarms
            self.alarmCheckInterval = alarmCheckInterval
            self.health = health
            self.onAlarm = onAlarm
            self.sinkStatistics = sinkStatistics
        }
    }
}

/// Why the realtime server could not start.
public enum RealtimeServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `listen` failed (address in use, not permitted …).
    case listen(address: SocketAddress, SystemError)
    /// The reactor is not running (start it first).
    case reactorNotRunning
    case alreadyStarted
    case closed

    public var description: String {
        switch self {
        case .listen(let address, let error): "cannot listen on \(address): \(error)"
        case .reactorNotRunning: "the server's reactor is not running (start it before the server)"
        case .alreadyStarted: "the realtime server is already started"
        case .closed: "the realtime server was closed"
        }
    }
}
