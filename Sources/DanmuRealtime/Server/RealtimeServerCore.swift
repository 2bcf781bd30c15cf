import DanmuClient
import EventLoop

/// The realtime server's state and routes. Loop-confined: created on any thread, then used only on the
/// reactor's IO thread (`RealtimeServer` hops there with `executeAndWait`).
final class RealtimeServerCore: @unchecked Sendable {
    let reactor: Reactor
    let collector: DanmuCollector
    let hub: EventHub
    let configuration: RealtimeServer.Configuration
    let router = HTTPRouter()
    let http: HTTPServer
    private let token: BearerToken?
    var alarms: RoomAlarmMonitor
    var healthMonitor: HealthMonitor
    /// Alarms already reported through `onAlarm`: each (room, kind) is warned about once per process.
    private var warned = Set<String>()
    private var alarmTimer: TimerID?
    private var startedAt: UInt64 = 0
    private var isClosed = false

    init(reactor: Reactor, collector: DanmuCollector, hub: EventHub, configuration: RealtimeServer.Configuration) {
        self.reactor = reactor
        self.collector = collector
        self.hub = hub
        self.configuration = configuration
        token = configuration.token.map(BearerToken.init)
        alarms = RoomAlarmMonitor(configuration: configuration.alarms)
        healthMonitor = HealthMonitor(configuration: configuration.health, startedAt: 0)
        http = HTTPServer(reactor: reactor, limits: configuration.limits, router: router)
        addRoutes()
    }

    func start() -> Result<SocketAddress, RealtimeServerError> {
        reactor.assertInLoop()
        let address: SocketAddress
        do throws(SystemError) {
            address = try http.start(on: configuration.address)
        } catch {
            return .failure(.listen(address: configuration.address, error))
        }
        startedAt = reactor.now
        healthMonitor = HealthMonitor(configuration: configuration.health, startedAt: startedAt)
        checkAlarms()
        alarmTimer = reactor.schedule(
            after: configuration.alarmCheckInterval, repeating: configuration.alarmCheckInterval
        ) { [weak self] in self?.checkAlarms() }
        return .success(address)
    }

    func close() {
        reactor.assertInLoop()
        isClosed = true
        if let alarmTimer { reactor.cancel(alarmTimer) }
        alarmTimer = nil
        http.close()
    }

    private func addRoutes() {
        for (path, asset) in LivePage.assets {
            let response = HTTPResponse(
                status: 200, headers: [("Content-Type", asset.contentType), ("Cache-Control", "no-cache")],
                body: asset.body)
            router.add("GET", path) { _, _ in .response(response) }
        }
        router.add("GET", "/events") { [unowned self] request, context in eventStream(request, context) }
        router.add("GET", "/ws") { [unowned self] request, context in webSocket(request, context) }
        router.add("GET", "/metrics") { [unowned self] _, _ in .response(metrics()) }
        router.add("GET", "/healthz") { [unowned self] _, _ in .response(health()) }
        router.add("GET", "/rooms") { [unowned self] _, _ in
            // The sample time lets the page divide counter deltas by when they were taken, not when polled.
            let statistics = collector.statistics()
            let sampledAt = SystemClock.realtimeNanoseconds() / 1_000_000
            return .response(.json(RoomsDocument.render(statistics, alarms: alarms.active, sampledAt: sampledAt)))
        }
        router.add("POST", "/rooms/{id}") { [unowned self] request, context in
            .response(controlRoom(request, context, add: true))
        }
        router.add("DELETE", "/rooms/{id}") { [unowned self] request, context in
            .response(controlRoom(request, context, add: false))
        }
    }

    private func metrics() -> HTTPResponse {
        let hubStatistics = hub.statistics
        let subscribers = SubscriberMetrics(
            sseSubscribers: hubStatistics.serverSentEventSubscribers,
            webSocketSubscribers: hubStatistics.webSocketSubscribers,
            eventsSkippedByPolicy: Int(hubStatistics.eventsSkipped),
            disconnectedByPolicy: Int(hubStatistics.subscribersDisconnected),
            gapsReported: Int(hubStatistics.gapsReported), eventsDelivered: Int(hubStatistics.deliveries))
        let body = MetricsRenderer.render(
            collector: collector.statistics(), sinks: configuration.sinkStatistics?() ?? [], subscribers: subscribers,
            alarms: alarms.active)
        return HTTPResponse(status: 200, headers: [("Content-Type", MetricsRenderer.contentType)], body: body)
    }

    private func health() -> HTTPResponse {
        let statistics = collector.statistics()
        let now = reactor.now
        let problems = observeHealth(statistics, now: now)
        let uptime = Double((now &- startedAt) / 1_000_000) / 1_000
        let body = HealthMonitor.document(
            problems: problems, rooms: statistics.rooms.count, roomsLive: statistics.roomsLive,
            subscribers: hub.statistics.subscribers, uptimeSeconds: uptime)
        return .json(body, status: problems.isEmpty ? 200 : 503)
    }

    /// Feeds the health monitor one reading (at each alarm check and each `/healthz`, so its clocks advance
    /// without requests).
    private func observeHealth(_ statistics: CollectorStatistics, now: UInt64) -> [HealthMonitor.Problem] {
        let readings = HealthMonitor.Readings(
            rooms: statistics.rooms.count, roomsLive: statistics.roomsLive,
            sinks: configuration.sinkStatistics?() ?? [], hubQueuedSince: hub.oldestQueuedEventSince)
        return healthMonitor.observe(readings, now: now)
    }

    private func controlRoom(_ request: HTTPRequest, _ context: HTTPRouteContext, add: Bool) -> HTTPResponse {
        guard let token else {
            return .text(403, "room control is disabled: the server has no token configured (--http-token-file)")
        }
        guard token.accepts(authorization: request.header("authorization")) else {
            return .text(
                401, "room control needs 'Authorization: Bearer <token>' with the configured token",
                headers: [("WWW-Authenticate", "Bearer")])
        }
        let text = context.parameters["id"] ?? ""
        guard let room = Int64(text), room > 0 else {
            return .text(400, "room id must be a positive integer, got '\(text)'")
        }
        let registered = collector.rooms.contains(room)
        if add {
            if !registered { collector.add(room: room) }
            return .json(Array(#"{"room":\#(room),"added":\#(!registered)}"#.utf8), status: registered ? 200 : 201)
        }
        guard registered else { return .text(404, "room \(room) is not registered") }
        collector.remove(room: room)
        // Its history ring goes with it (the periodic check also forgets rooms removed by other means).
        hub.forgetHistory(of: room)
        return .json(Array(#"{"room":\#(room),"removed":true}"#.utf8))
    }

    private func checkAlarms() {
        let statistics = collector.statistics()
        let update = alarms.observe(statistics, at: Duration.nanoseconds(Int64(reactor.now)))
        _ = observeHealth(statistics, now: reactor.now)
        // Rooms removed from the collector (here, by the CLI's room file or the library) lose their history:
        // memory stays bounded by the rooms registered, however many come and go over weeks.
        hub.forgetHistory(ofRoomsNotIn: Set(statistics.rooms.map(\.room)))
        for alarm in update.raised {
            let key = "\(alarm.room)/\(alarm.kind.rawValue)"
            guard !warned.contains(key) else { continue }
            warned.insert(key)
            configuration.onAlarm?(alarm)
        }
    }
}
