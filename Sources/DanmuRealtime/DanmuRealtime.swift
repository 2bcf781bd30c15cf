/// DanmuRealtime: an HTTP/1.1 server on the reactor that fans chat out to browsers (Server-Sent Events and
/// WebSocket), serves the live page, and exposes metrics and room control (docs/http.md).
///
/// The parts: `HTTP/` (`HTTPServer`, `HTTPRequestParser`, `HTTPRouter`: the server, knowing nothing of danmu),
/// `Fanout/` (`EventHub`: subscriptions, history, ids, slow subscribers), `Page/` (`LivePage`), `Operations/`
/// (`MetricsRenderer`, `RoomsDocument`, `RoomAlarmMonitor`) and `Server/` (`RealtimeServer`: the routes that join
/// them to a `DanmuCollector`).
public enum DanmuRealtime {
    /// The module's version of its HTTP surface, reported by `/healthz`.
    public static let apiVersion = 1
}
