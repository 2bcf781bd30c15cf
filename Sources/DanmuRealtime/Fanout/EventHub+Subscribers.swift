import DanmuClient

// The subscriber API and delivery. Every method here is loop-confined (`reactor.assertInLoop()`).
extension EventHub {
    /// Starts a Server-Sent Events stream on `output`, whose response head (`200`, `Content-Type:
    /// text/event-stream`, `Cache-Control: no-cache`) the HTTP layer has sent. Writes the body: `retry:`, then for a
    /// resume the gap (if any) and the held events after the resume point, then live events as they come.
    /// Loop thread. After `close()` the output is closed at once (the id is dead).
    public func openEventStream(_ subscription: Subscription, output: any SubscriberOutput) -> SubscriberID {
        reactor.assertInLoop()
        let milliseconds =
            configuration.reconnectDelay.components.seconds * 1_000
            + configuration.reconnectDelay.components.attoseconds / 1_000_000_000_000_000
        return open(.serverSentEvents, subscription, output, preamble: Array("retry: \(milliseconds)\n\n".utf8))
    }

    /// Starts delivering to a WebSocket whose 101 the HTTP layer has sent: one text message per event (the JSON
    /// Lines object with `"id"` first), gap messages (`"type":"gap"`), pings as keep-alive. For a resume the gap and
    /// the held events come first. Feed the client's bytes to `webSocketDidRead`.
    ///
    /// The client may change its subscription with a text message `{"rooms":[1,2],"kinds":["danmaku"]}` (either
    /// member absent or null = all; see `Subscription.parse(webSocketMessage:)`); the hub answers
    /// `{"type":"subscribed","rooms":[1,2],"kinds":["danmaku"]}`, or `{"type":"error","message":"…"}` and keeps
    /// the old subscription. Loop thread.
    public func openWebSocket(_ subscription: Subscription, output: any SubscriberOutput) -> SubscriberID {
        reactor.assertInLoop()
        return open(.webSocket, subscription, output, preamble: [])
    }

    private func open(
        _ transport: SubscriberTransport, _ subscription: Subscription, _ output: any SubscriberOutput,
        preamble: [UInt8]
    ) -> SubscriberID {
        lastSubscriberNumber += 1
        let id = SubscriberID(rawValue: lastSubscriberNumber)
        let subscriber = Subscriber(
            id: id, transport: transport, subscription: subscription, output: output,
            maxClientMessageBytes: configuration.maxClientMessageBytes)
        guard !isClosed else {
            if transport == .webSocket {
                sendClose(WebSocketClose(code: .goingAway, reason: "server shutting down"), to: subscriber)
            }
            output.close()
            return id
        }
        subscribers.insert(subscriber)
        startKeepAliveIfNeeded()
        var bytes = preamble
        var tally = DeliveryTally()
        if let resumeAfter = subscription.resumeAfter {
            let replay = history.replay(
                after: resumeAfter, epoch: epoch, for: subscription, maxBytes: configuration.maxReplayBytes)
            if let gap = replay.gap {
                bytes += subscriber.wire(gap, encoder: &encoder)
                tally.gaps += 1
            }
            for event in replay.events { bytes += subscriber.wire(event, encoder: &encoder) }
            tally.deliveries += UInt64(replay.events.count)
        }
        counters.withLock { statistics in
            statistics.subscribersOpened += 1
            switch transport {
            case .serverSentEvents: statistics.serverSentEventSubscribers += 1
            case .webSocket: statistics.webSocketSubscribers += 1
            }
            tally.add(to: &statistics)
        }
        if !bytes.isEmpty { output.send(bytes) }
        return id
    }

    /// The connection has sent everything queued: a slow subscriber's owed gap goes out now, then new events flow
    /// again. Loop thread; an unknown id is ignored.
    public func outputDidDrain(_ id: SubscriberID) {
        reactor.assertInLoop()
        guard let subscriber = subscribers[id], subscriber.isOpen else { return }
        var tally = DeliveryTally()
        sendOwedGap(subscriber, tally: &tally)
        if tally.gaps > 0 { counters.withLock { tally.add(to: &$0) } }
    }

    /// The connection is gone (the HTTP layer's `didClose`); forgets the subscriber. Loop thread; idempotent, may be
    /// called from inside `output.close()`.
    public func subscriberDidClose(_ id: SubscriberID) {
        reactor.assertInLoop()
        guard let subscriber = subscribers.remove(id) else { return }
        subscriber.isOpen = false
        counters.withLock { statistics in
            switch subscriber.transport {
            case .serverSentEvents: statistics.serverSentEventSubscribers -= 1
            case .webSocket: statistics.webSocketSubscribers -= 1
            }
        }
    }

    /// Open subscribers (loop thread).
    public var subscriberCount: Int {
        reactor.assertInLoop()
        return subscribers.count
    }

    // MARK: Delivery

    /// The concatenated wire bytes of one flush, built once per distinct (rooms, kinds, transport) and shared by
    /// every subscriber with that key: the reactor queues the same array for all of them (copy-on-write, no copy).
    /// The subscriber's `resumeAfter` is not part of the key: live events do not depend on it.
    struct BatchCache {
        struct Key: Hashable {
            var rooms: Set<Int64>?
            var kinds: Set<EventKind>?
            var transport: SubscriberTransport
        }
        private var entries: [Key: [UInt8]] = [:]
        /// The last key used and its bytes: consecutive subscribers usually share it, and comparing two small
        /// sets is cheaper than hashing them.
        private var last: (key: Key, bytes: [UInt8])?

        mutating func bytes(for subscriber: Subscriber, build: () -> [UInt8]) -> [UInt8] {
            let key = Key(
                rooms: subscriber.subscription.rooms, kinds: subscriber.subscription.kinds,
                transport: subscriber.transport)
            if let last, last.key == key { return last.bytes }
            let bytes = entries[key] ?? build()
            entries[key] = bytes
            last = (key, bytes)
            return bytes
        }
    }

    /// Sends the events of one flush that `subscriber` matches, as ONE write, unless it is over its bound.
    func deliver(
        _ events: [PublishedEvent], to subscriber: Subscriber, batches: inout BatchCache, tally: inout DeliveryTally
    ) {
        guard !subscriber.isDraining else { return }
        var first: PublishedEvent?
        var matched = 0
        for event in events where subscriber.subscription.matches(room: event.room, kind: event.kind) {
            if first == nil { first = event }
            matched += 1
        }
        guard let first else { return }
        if subscriber.isSkipping { sendOwedGap(subscriber, tally: &tally) }
        if subscriber.isSkipping || subscriber.output.pendingBytes > configuration.subscriberQueueBytes {
            if subscriber.stalledSince == nil { subscriber.stalledSince = reactor.now }
            switch configuration.slowSubscriberPolicy {
            case .skipToNewest:
                for event in events where subscriber.subscription.matches(room: event.room, kind: event.kind) {
                    subscriber.recordSkipped(room: event.room)
                }
                tally.skipped += UInt64(matched)
            case .disconnect:
                tally.disconnected += 1
                if subscriber.transport == .webSocket {
                    sendClose(WebSocketClose(code: .policyViolation, reason: "too slow"), to: subscriber)
                }
                // Marked first: `close()` may report the close (and forget the subscriber) before it returns.
                subscriber.isDraining = true
                subscriber.output.close()
            }
            return
        }
        subscriber.stalledSince = nil
        tally.deliveries += UInt64(matched)
        // One event: its shared wire array as is (no copy). More: one buffer, so one write for the batch, built
        // once for all subscribers that want the same events in the same framing.
        if matched == 1 {
            subscriber.output.send(subscriber.wire(first, encoder: &encoder))
            return
        }
        let bytes = batches.bytes(for: subscriber) {
            var bytes: [UInt8] = []
            for event in events where subscriber.subscription.matches(room: event.room, kind: event.kind) {
                bytes += subscriber.wire(event, encoder: &encoder)
            }
            return bytes
        }
        subscriber.output.send(bytes)
    }

    /// Sends the gap a skipping subscriber is owed, once its connection holds nothing unsent.
    func sendOwedGap(_ subscriber: Subscriber, tally: inout DeliveryTally) {
        guard subscriber.isSkipping, subscriber.output.pendingBytes == 0, let gap = subscriber.takeSkipped()
        else { return }
        subscriber.output.send(subscriber.wire(gap, encoder: &encoder))
        subscriber.stalledSince = nil
        tally.gaps += 1
    }

    /// Closes the subscriber's output (after what is queued) and forgets it. The output may call
    /// `subscriberDidClose` from inside `close()`: the subscriber is already marked closed, so that is harmless.
    func closeSubscriber(_ subscriber: Subscriber) {
        guard subscriber.isOpen else { return }
        subscriber.output.close()
        subscriberDidClose(subscriber.id)
    }

    /// Closes at once, dropping what is queued (a subscriber that does not read), and forgets it.
    func closeSubscriberNow(_ subscriber: Subscriber) {
        guard subscriber.isOpen else { return }
        subscriber.output.closeNow()
        subscriberDidClose(subscriber.id)
    }

    func sendClose(_ close: WebSocketClose, to subscriber: Subscriber) {
        var frame: [UInt8] = []
        encoder.encodeClose(close, into: &frame)
        subscriber.output.send(frame)
    }

    // MARK: Keep-alive

    /// One repeating timer for all subscribers (not one per subscriber), started with the first one.
    private func startKeepAliveIfNeeded() {
        guard keepAliveTimer == nil else { return }
        let period = configuration.keepAliveInterval
        keepAliveTimer = reactor.schedule(after: period, repeating: period) { [weak self] in
            guard let self else { return }
            sendKeepAlives(now: reactor.now)
        }
    }

    /// An SSE comment or a WebSocket ping to every subscriber not over its bound; a skipping one whose connection
    /// drained without a drain callback gets its gap here; one over its bound for `stalledSubscriberTimeout` is
    /// closed. `now`: the reactor's clock (a test passes a later one). Loop thread.
    func sendKeepAlives(now: UInt64) {
        reactor.assertInLoop()
        let comment = Array(": keep-alive\n\n".utf8)
        let ping = encoder.encode(.ping, payload: [UInt8]())
        var tally = DeliveryTally()
        for subscriber in Array(subscribers.byID.values) where subscriber.isOpen {
            // Closed by `.disconnect` and waiting for its queue to flush: nothing more to send.
            if !subscriber.isDraining { sendOwedGap(subscriber, tally: &tally) }
            if subscriber.isDraining || subscriber.isSkipping
                || subscriber.output.pendingBytes > configuration.subscriberQueueBytes
            {
                let since = subscriber.stalledSince ?? now
                subscriber.stalledSince = since
                if now >= since, now - since >= configuration.stalledSubscriberTimeout.nanoseconds {
                    tally.timedOut += 1
                    closeSubscriberNow(subscriber)
                }
                continue
            }
            subscriber.stalledSince = nil
            subscriber.output.send(subscriber.transport == .serverSentEvents ? comment : ping)
        }
        if tally.gaps > 0 || tally.timedOut > 0 { counters.withLock { tally.add(to: &$0) } }
    }
}
