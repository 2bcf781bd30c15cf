import DanmuClient
import DanmuCodecs

// What a WebSocket subscriber's client sends. Loop-confined like the rest of the subscriber API.
extension EventHub {
    /// Bytes the client sent on a WebSocket opened with `openWebSocket` (split any way). Loop thread.
    ///
    /// - a ping is answered with a pong carrying its payload; a pong is ignored;
    /// - a close is answered with a close (the client's code, or none for an empty close), then the output is
    ///   closed;
    /// - a text message is a subscribe message (see `openWebSocket`); a binary message closes with 1003;
    /// - a frame that breaks RFC 6455 (e.g. not masked) closes with 1002, one over `maxClientMessageBytes` with
    ///   1009, bad UTF-8 with 1007: the code the decoder's `WebSocketError.closeCode` names.
    /// An unknown or closed id is ignored.
    public func webSocketDidRead(_ id: SubscriberID, _ bytes: UnsafeRawBufferPointer) {
        reactor.assertInLoop()
        guard let subscriber = subscribers[id], subscriber.isOpen, var decoder = subscriber.decoder else { return }
        // Taken out while it is fed, so its message buffer has one owner and grows in place (no copy-on-write).
        subscriber.decoder = nil
        var events: [WebSocketFrameDecoder.Event] = []
        var failure: WebSocketError?
        do {
            try decoder.feed(bytes, into: &events)
        } catch {
            failure = error
        }
        subscriber.decoder = decoder
        // Events decoded before an error still count: a ping before a bad frame is answered.
        for event in events {
            guard subscriber.isOpen else { return }
            handleClientFrame(event, from: subscriber)
        }
        if let failure, subscriber.isOpen {
            sendClose(WebSocketClose(code: failure.closeCode, reason: failure.description), to: subscriber)
            closeSubscriber(subscriber)
        }
    }

    private func handleClientFrame(_ event: WebSocketFrameDecoder.Event, from subscriber: Subscriber) {
        switch event {
        case .ping(let payload):
            subscriber.output.send(encoder.encode(.pong, payload: payload))
        case .pong:
            break
        case .close(let close):
            // §5.5.1: answer with a close echoing the status code, then close the TCP connection.
            sendClose(WebSocketClose(code: close.code), to: subscriber)
            closeSubscriber(subscriber)
        case .message(.text, let payload):
            let answer: [UInt8]
            do {
                var subscription = try Subscription.parse(webSocketMessage: payload)
                subscription.resumeAfter = subscriber.subscription.resumeAfter
                subscribers.update(subscriber, to: subscription)
                answer = Self.subscribedMessage(subscription)
            } catch {
                answer = Self.errorMessage(error.description)
            }
            subscriber.output.send(encoder.encode(.text, payload: answer))
        case .message:
            sendClose(
                WebSocketClose(code: .unsupportedData, reason: "only text subscribe messages are accepted"),
                to: subscriber)
            closeSubscriber(subscriber)
        }
    }

    /// `{"type":"subscribed","rooms":[…]|null,"kinds":[…]|null}`, rooms and kinds sorted.
    static func subscribedMessage(_ subscription: Subscription) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key(static: "type")
        writer.string("subscribed")
        writer.key(static: "rooms")
        if let rooms = subscription.rooms {
            writer.beginArray()
            for room in rooms.sorted() { writer.int(room) }
            writer.endArray()
        } else {
            writer.null()
        }
        writer.key(static: "kinds")
        if let kinds = subscription.kinds {
            writer.beginArray()
            for kind in kinds.map(\.rawValue).sorted() { writer.string(kind) }
            writer.endArray()
        } else {
            writer.null()
        }
        writer.endObject()
        return writer.bytes
    }

    /// `{"type":"error","message":"…"}`.
    static func errorMessage(_ message: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key(static: "type")
        writer.string("error")
        writer.key(static: "message")
        writer.string(message)
        writer.endObject()
        return writer.bytes
    }
}

extension Subscription {
    /// Reads a WebSocket client's subscribe message: a JSON object with optional members `rooms` (an array of
    /// positive room ids, at most `maxRooms`) and `kinds` (an array of `EventKind` names); an absent or null member
    /// means "all". Other members are ignored. The result has no resume point (a subscribe message changes what is
    /// delivered from now on; it does not replay).
    public static func parse(webSocketMessage bytes: [UInt8]) throws(SubscriptionError) -> Subscription {
        let text = String(decoding: bytes, as: UTF8.self)
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: bytes, maxDepth: 4)
        } catch {
            throw SubscriptionError(parameter: "message", value: text, problem: "is not JSON (\(error))")
        }
        let root = document.root
        guard root.kind == .object else {
            throw SubscriptionError(parameter: "message", value: text, problem: "is not a JSON object")
        }
        var subscription = Subscription()
        if let rooms = root["rooms"], !rooms.isNull {
            guard rooms.kind == .array else {
                throw SubscriptionError(parameter: "rooms", value: text, problem: "is not an array of room ids")
            }
            var set = Set<Int64>()
            for element in rooms.elements {
                guard let room = element.int64, room > 0 else {
                    throw SubscriptionError(
                        parameter: "rooms", value: text, problem: "holds something that is not a room id")
                }
                set.insert(room)
                if set.count > maxRooms {
                    throw SubscriptionError(
                        parameter: "rooms", value: text, problem: "names more than \(maxRooms) rooms")
                }
            }
            subscription.rooms = set
        }
        if let kinds = root["kinds"], !kinds.isNull {
            guard kinds.kind == .array else {
                throw SubscriptionError(parameter: "kinds", value: text, problem: "is not an array of kind names")
            }
            var set = Set<EventKind>()
            for element in kinds.elements {
                guard let name = element.string, let kind = EventKind(rawValue: name) else {
                    let known = EventKind.allCases.map(\.rawValue).joined(separator: ", ")
                    throw SubscriptionError(
                        parameter: "kinds", value: text, problem: "holds an unknown kind (known: \(known))")
                }
                set.insert(kind)
            }
            subscription.kinds = set
        }
        return subscription
    }
}
