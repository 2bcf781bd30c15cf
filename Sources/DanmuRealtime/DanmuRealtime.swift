/// DanmuRealtime: an HTTP/1.1 server on the reactor that fans chat out to browsers (Server-Sent Events and
/// WebSocket), serves the live page, and exposes metrics and room control. Issue 13 builds it here.
public enum DanmuRealtime {
    /// The module's version of its HTTP surface, reported by `/healthz`.
    public static let apiVersion = 1
}
