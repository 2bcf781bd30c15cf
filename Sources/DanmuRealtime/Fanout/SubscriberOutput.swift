/// One subscriber's connection as the hub sees it. Loop-confined.
///
/// The HTTP layer owns the socket: it parses the request, sends the response head (SSE) or the 101 (WebSocket),
/// then hands the connection to `EventHub.openEventStream` / `openWebSocket` wrapped in one of these, forwards
/// reads of a WebSocket to `webSocketDidRead`, the reactor's drain callback to `outputDidDrain`, and the close to
/// `subscriberDidClose`. `close()` may call back into `subscriberDidClose` before it returns; the hub allows it.
public protocol SubscriberOutput: AnyObject {
    /// Queue bytes on the connection (the HTTP layer passes them to `reactor.write`).
    func send(_ bytes: [UInt8])
    /// Bytes accepted by `send` and not yet taken by the kernel (`reactor.pendingWriteBytes`).
    var pendingBytes: Int { get }
    /// Close after what is queued (`reactor.closeAfterFlush`).
    func close()
    /// Close at once, dropping what is queued (`reactor.close`): for a subscriber that stopped reading, whose queue
    /// would never flush. Default: `close()`.
    func closeNow()
}

extension SubscriberOutput {
    /// `close()`: an output that cannot drop its queue closes after it.
    public func closeNow() { close() }
}

/// Names one subscriber of one `EventHub`. Never reused within a hub, so a stale id is simply unknown.
public struct SubscriberID: Hashable, Sendable, CustomStringConvertible {
    /// 1, 2, 3, … in the order subscribers were opened.
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `subscriber#7`.
    public var description: String { "subscriber#\(rawValue)" }
}

/// How a subscriber receives events.
public enum SubscriberTransport: String, Sendable {
    /// `text/event-stream`: `id:` + `data:` per event, `event: gap` for gaps, `:` comments as keep-alive.
    case serverSentEvents = "sse"
    /// RFC 6455 text messages: one JSON object per event (with `"id"`), `"type":"gap"` objects for gaps, pings.
    case webSocket = "ws"
}
