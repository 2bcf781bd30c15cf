import DanmuClient
import DanmuCodecs
import EventLoop

/// `GET /events` (Server-Sent Events) and `GET /ws` (WebSocket): the HTTP side of a subscription. The route
/// checks the request and sends the response head; the hub writes the body from then on.
extension RealtimeServerCore {
    func eventStream(_ request: HTTPRequest, _ context: HTTPRouteContext) -> HTTPRouteResult {
        let subscription: Subscription
        do throws(SubscriptionError) {
            subscription = try Subscription.parse(query: request.query, lastEventID: request.header("last-event-id"))
        } catch {
            return .response(.text(400, error.description))
        }
        let head = HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                // nginx in front must not buffer the stream.
                ("X-Accel-Buffering", "no"),
            ])
        let hub = self.hub
        return .stream(head: head) { connection in
            let id = hub.openEventStream(subscription, output: connection)
            return HubSubscriberStream(hub: hub, id: id, forwardsReads: false)
        }
    }

    func webSocket(_ request: HTTPRequest, _ context: HTTPRouteContext) -> HTTPRouteResult {
        let accept: String
        switch WebSocketUpgradeCheck.validate(request, allowedOrigins: configuration.allowedOrigins) {
        case .failure(let refusal): return .response(refusal.response)
        case .success(let value): accept = value
        }
        let subscription: Subscription
        do throws(SubscriptionError) {
            subscription = try Subscription.parse(query: request.query, lastEventID: request.header("last-event-id"))
        } catch {
            return .response(.text(400, error.description))
        }
        let head = HTTPResponse(
            status: 101,
            headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)])
        let hub = self.hub
        return .stream(head: head) { connection in
            let id = hub.openWebSocket(subscription, output: connection)
            return HubSubscriberStream(hub: hub, id: id, forwardsReads: true)
        }
    }
}

/// A taken-over connection as the hub's subscriber. Loop-confined.
final class HubSubscriberStream: HTTPStreamHandler {
    private let hub: EventHub
    private let id: SubscriberID
    /// WebSocket: the client's frames go to the hub. SSE: a client has nothing to say; its bytes are ignored.
    private let forwardsReads: Bool

    init(hub: EventHub, id: SubscriberID, forwardsReads: Bool) {
        self.hub = hub
        self.id = id
        self.forwardsReads = forwardsReads
    }

    func streamDidRead(_ bytes: UnsafeRawBufferPointer) {
        if forwardsReads { hub.webSocketDidRead(id, bytes) }
    }

    func streamDidDrain() {
        hub.outputDidDrain(id)
    }

    func streamDidClose() {
        hub.subscriberDidClose(id)
    }
}

extension HTTPStreamConnection: SubscriberOutput {}
