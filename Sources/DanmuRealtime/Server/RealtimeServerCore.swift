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
        let uptime = Double((reactor.now &- startedAt) / 1_000_000) / 1_000
        // Numbers only: nothing here needs escaping.
        let text =
            #"{"status":"ok","api_version":\#(DanmuRealtime.apiVersion),"rooms":\#(statistics.rooms.count),"#
            + #""rooms_live":\#(statistics.roomsLive),"subscribers":\#(hub.statistics.subscribers),"#
            + #""uptime_seconds":\#(uptime)}"#
        return .json(Array(text.utf8))
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
        return .json(Array(#"{"room":\#(room),"removed":true}"#.utf8))
    }

    private func checkAlarms() {
        let now = Duration.nanoseconds(Int64(reactor.now))
        let update = alarms.observe(collector.statistics(), at: now)
        for alarm in update.raised {
            let key = "\(alarm.room)/\(alarm.kind.rawValue)"
            guard !warned.contains(key) else { continue }
            warned.insert(key)
            configuration.onAlarm?(alarm)
        }
    }
}
