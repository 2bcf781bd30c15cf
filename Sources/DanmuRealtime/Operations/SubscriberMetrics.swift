/// The counters of the HTTP subscribers (Server-Sent Events and WebSocket) that `/metrics` reports: what the
/// fan-out hub hands `MetricsRenderer`. A plain value, filled by whoever owns the subscribers.
public struct SubscriberMetrics: Sendable, Equatable {
    /// Subscribers connected now over `GET /events` (Server-Sent Events).
    public var sseSubscribers: Int
    /// Subscribers connected now over `GET /ws` (WebSocket).
    public var webSocketSubscribers: Int
    /// Events a subscriber never received because its queue was full and the policy skipped to the newest.
    public var eventsSkippedByPolicy: Int
    /// Subscribers closed because their queue was full and the policy is to disconnect.
    public var disconnectedByPolicy: Int
    /// Gap events sent to subscribers (after a skip, or a resume that history no longer covered).
    public var gapsReported: Int
    /// Events written to subscribers (one per event per subscriber).
    public var eventsDelivered: Int

    public init(
        sseSubscribers: Int = 0, webSocketSubscribers: Int = 0, eventsSkippedByPolicy: Int = 0,
        disconnectedByPolicy: Int = 0, gapsReported: Int = 0, eventsDelivered: Int = 0
    ) {
        self.sseSubscribers = sseSubscribers
        self.webSocketSubscribers = webSocketSubscribers
        self.eventsSkippedByPolicy = eventsSkippedByPolicy
        self.disconnectedByPolicy = disconnectedByPolicy
        self.gapsReported = gapsReported
        self.eventsDelivered = eventsDelivered
    }
}
