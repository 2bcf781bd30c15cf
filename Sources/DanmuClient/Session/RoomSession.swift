import EventLoop

/// One room on the IO thread: glues its `RoomStateMachine` to the reactor (sockets and one timer) and hands
/// the frames it reads to the room's serial queue.
///
/// It does not know which transport carries it: each connection owns a `TransportStack` (tcp, ws or wss, chosen
/// by `TransportChoice`); the session writes what the stack gives it, feeds the packet bytes the stack returns
/// to its `FrameDecoder`, and tells the state machine `.connected` only once the stack is ready (at once for
/// TCP; after the 101 for ws/wss, whose handshake the machine judges with `handshakeTimeout`).
///
/// Loop-confined (not `Sendable`): every method runs on the reactor's thread. It is the `ConnectionHandler` of
/// each of its connections in turn; reports about a connection it has already abandoned are ignored by
/// comparing connection ids. Memory when idle-live: this object, the machine, an empty `FrameDecoder` (no
/// buffer unless a packet is split across reads), one reactor timer; the configuration is shared via `core`.
final class RoomSession: ConnectionHandler {
    let room: Int64
    let queue: SerialQueue
    let pipeline: RoomPipeline
    private unowned let core: CollectorCore
    private var machine: RoomStateMachine
    private var frames: FrameDecoder
    private var endpoint: SessionEndpoint?
    private var connection: ConnectionID?
    /// The WebSocket (and TLS) layers of the current connection, fresh per connection; nil for TCP, which has
    /// none: a TCP room pays one pointer for transports, not a `TransportStack` value inline.
    private var layers: ConnectionLayers?
    private var transport: TransportChoice
    /// The phase before the input being handled (`perform` sees the phase after it).
    private var phaseBeforeInput = RoomPhase.idle
    /// Numbers connections so a worker's late protocol-error report names the one it is about.
    private var connectionNumber: UInt32 = 0
    private var timer: TimerID?
    private var queueFull = false
    private var readingPaused = false
    private var inConnectCall = false
    private var quiesced = false
    private var publishedPhase = RoomPhase.idle
    /// An input produced while carrying out actions (a connect that fails at once), handled right after.
    private var deferred: RoomStateMachine.Input?

    init(room: Int64, core: CollectorCore, endpoint: SessionEndpoint?, queue: SerialQueue, pipeline: RoomPipeline) {
        self.room = room
        self.core = core
        self.endpoint = endpoint
        self.queue = queue
        self.pipeline = pipeline
        machine = RoomStateMachine(room: room, resolutionEnabled: endpoint == nil, timing: core.timing)
        frames = FrameDecoder(maxPacketLength: core.configuration.maxPacketLength)
        transport = TransportChoice(
            core.configuration.transport, fallbackAfter: core.configuration.autoFallbackAfterFailures)
    }

    var counters: RoomCounters { pipeline.counters }
    var phase: RoomPhase { machine.phase }

    // MARK: - Commands from the collector (loop thread)

    func start() { feed(.start) }

    func remove() { feed(.remove) }

    func resolved(_ result: Result<SessionEndpoint, RoomResolutionError>) {
        guard machine.phase == .resolving else { return }
        switch result {
        case .success(let endpoint):
            self.endpoint = endpoint
            feed(.resolved(hostCount: endpoint.hosts.count))
        case .failure(let error):
            feed(.resolveFailed(error.message, permanent: error.permanent))
        }
    }

    /// The room's queue went back below its low mark.
    func queueDrained() {
        queueFull = false
        applyReadState()
    }

    /// A worker found undecodable data in a frame of connection `number`.
    func protocolError(connection number: UInt32, _ error: ProtocolError) {
        guard number == connectionNumber, connection != nil, !quiesced else { return }
        feed(.protocolError(error.description))
    }

    /// Re-evaluates whether this room's socket should be read (queue full, stream full, shutting down), and tells
    /// the state machine, which must not judge the server by a silence that is ours.
    ///
    /// Backpressure pauses only a live connection. Issue 17, bug 4: a socket paused while authenticating left its
    /// AUTH_REPLY unread and the room collected "no AUTH_REPLY in time" failures (token refresh, doubled backoff).
    /// Suspending the auth timeout alone would not do: we send no heartbeat before AUTH_REPLY, so a handshake
    /// paused for a minute is closed by the server, again an auth failure. Reading until AUTH_REPLY is sound
    /// because the server sends nothing before it: the extra intake is what arrives in the same reads (at most
    /// `maxReadsPerEvent` × the receive buffer per connection, once), and the room pauses the moment it is live.
    func applyReadState() {
        guard let connection else { return }
        let pressured = queueFull || core.streamPressure
        let pause = quiesced || (pressured && machine.phase == .live)
        guard pause != readingPaused else { return }
        readingPaused = pause
        if pause {
            core.reactor.pauseReading(connection)
            counters.update {
                $0.readPauses += 1
                $0.isReadingPaused = true
            }
        } else {
            core.reactor.resumeReading(connection)
            counters.update { $0.isReadingPaused = false }
        }
        feed(pause ? .readingPaused : .readingResumed)
    }

    /// Shutdown, first step: no more reads, timers or reconnects; the connection stays open until `close()`.
    func quiesce() {
        quiesced = true
        cancelTimer()
        applyReadState()
    }

    /// Shutdown, last step (and the state machine's `.close`): a WebSocket close and TLS close_notify first,
    /// written best effort (the reactor tries the write at once), then the socket.
    func closeConnection() {
        if let current = connection {
            connection = nil
            if let layers {
                let goodbye = layers.stack.close()
                if !goodbye.isEmpty { core.reactor.write(current, goodbye) }
            }
            core.reactor.close(current)
        }
    }

    // MARK: - ConnectionHandler

    func connectionDidOpen(_ id: ConnectionID) {
        guard adopt(id) else { return }
        counters.update { $0.connections += 1 }
        readingPaused = false
        applyReadState()
        guard let layers else {
            feed(.connected)
            return
        }
        let output: TransportStack.Output
        do throws(TransportError) {
            output = try layers.stack.start()
        } catch {
            return failTransport(error.description)
        }
        if !output.outgoing.isEmpty { core.reactor.write(id, output.outgoing) }
        let stage = layers.stack.kind == .wss ? "TLS handshake" : "WebSocket upgrade"
        layers.handshakeStage = stage
        feed(.handshaking(stage: stage))
    }

    func connection(_ id: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        guard id == connection else { return }
        guard let layers else { return deliver(bytes, socketBytes: bytes.count) }
        let (output, failure) = layers.stack.feedKeepingOutput(bytes)
        if !output.outgoing.isEmpty { core.reactor.write(id, output.outgoing) }
        if let failure {
            // The messages ahead of the bad frame were valid: delivered, like TCP's packets before a bad header.
            if machine.phase != .connecting {
                output.packetBytes.withUnsafeBytes { deliver($0, socketBytes: bytes.count) }
            }
            guard id == connection else { return }
            let goodbye = layers.stack.failureBytes(for: failure)
            if !goodbye.isEmpty { core.reactor.write(id, goodbye) }
            return failTransport(failure.description)
        }
        if layers.handshakeStage == "TLS handshake", let tls = layers.stack.tlsLayer, tls.state != .handshaking {
            if tls.isSessionReused { counters.update { $0.tlsResumptions += 1 } }
            layers.handshakeStage = "WebSocket upgrade"
            feed(.handshaking(stage: "WebSocket upgrade"))
        }
        if output.ready {
            layers.handshakeStage = nil
            feed(.connected)  // sends AUTH through the stack
        }
        guard id == connection else { return }
        output.packetBytes.withUnsafeBytes { deliver($0, socketBytes: bytes.count) }
        // TLS 1.3 tickets come after the handshake, with the first records: by the first packet (AUTH_REPLY) the
        // session is worth keeping for the next connect to this host.
        if !layers.tlsSessionStored, !output.packetBytes.isEmpty, let key = layers.tlsKey,
            let tls = layers.stack.tlsLayer
        {
            layers.tlsSessionStored = true
            core.storeTLSSession(tls.session, for: key)
        }
        if let closed = output.closed, id == connection {
            // The server ended the stream at the WebSocket or TLS layer: the echo is written, then the socket goes.
            connection = nil
            core.reactor.closeAfterFlush(id)
            readingPaused = false
            counters.update { $0.isReadingPaused = false }
            feed(.closed(peerClosedFailure(closed)))
        }
    }

    /// The packet bytes of one read (for TCP the socket bytes themselves): cut into frames, enqueued, AUTH_REPLY
    /// told to the state machine. `socketBytes` is what the read took from the socket (the statistics' bytes).
    private func deliver(_ bytes: UnsafeRawBufferPointer, socketBytes: Int) {
        let now = RoomClock.monotonicNanos()
        let receivedAt = RoomClock.unixNanos()
        var batch: [Frame] = []
        var cost = 0
        var authCode: Int?
        var failure: ProtocolError?
        do throws(ProtocolError) {
            try frames.feed(bytes) { frame in
                if frame.header.operation == Operation.authReply.rawValue && authCode == nil {
                    authCode = frame.authReplyCode ?? -1
                }
                cost += frame.wireLength
                batch.append(frame)
            }
        } catch {
            failure = error
        }
        // Frames cut before a bad header are still delivered; the connection then goes.
        counters.received(bytes: socketBytes, frames: batch.count, at: receivedAt)
        enqueue(batch, cost: cost, receivedAt: receivedAt)
        if let failure {
            feed(.protocolError(failure.description))
        } else if let authCode {
            feed(.authReply(code: authCode))
        }
        // After the reply was fed: frames that came in the same read as AUTH_REPLY count as delivered.
        machine.bytesRead(now: now, frames: batch.count - (authCode == nil ? 0 : 1))
    }

    func connection(_ id: ConnectionID, didClose reason: CloseReason) {
        guard adopt(id) else { return }
        connection = nil
        readingPaused = false
        counters.update { $0.isReadingPaused = false }
        let failure: RoomFailure
        switch (machine.phase, reason) {
        case (.connecting, _) where layers?.handshakeStage != nil:
            failure = .transportFailed("connection \(Self.describe(reason)) during the \(layers!.handshakeStage!)")
        case (.connecting, .connectTimeout): failure = .connectTimeout
        case (.connecting, .error(let error)): failure = .connectFailed(error.description)
        case (.connecting, _): failure = .connectFailed("\(reason)")
        case (.authenticating, .error(let error)): failure = .connectionError(error.description)
        case (.authenticating, _): failure = .closedBeforeAuth
        case (_, .error(let error)): failure = .connectionError(error.description)
        default: failure = .closedByPeer
        }
        feed(.closed(failure))
    }

    /// A failure of the transport layers (handshake, framing, TLS): the connection goes at once, after the bytes
    /// already written (a close frame naming the error, an alert), and the room reconnects with the reason.
    private func failTransport(_ why: String) {
        guard let current = connection else { return }
        connection = nil
        core.reactor.closeAfterFlush(current)
        readingPaused = false
        counters.update { $0.isReadingPaused = false }
        feed(.closed(.transportFailed(why)))
    }

    /// The server closed at the WebSocket or TLS layer: judged like a TCP close in the same phase, except that a
    /// WebSocket close keeps its code and reason (a 1008 from risk control reads differently from a 1001).
    private func peerClosedFailure(_ closed: TransportStack.Closed) -> RoomFailure {
        switch (machine.phase, closed) {
        case (.connecting, _):
            return .transportFailed("\(Self.describe(closed)) during the \(layers?.handshakeStage ?? "handshake")")
        case (.authenticating, .webSocket(let close)):
            return .webSocketClosed(code: close.code?.rawValue, reason: close.reason, beforeAuth: true)
        case (.authenticating, .tls): return .closedBeforeAuth
        case (_, .webSocket(let close)):
            return .webSocketClosed(code: close.code?.rawValue, reason: close.reason, beforeAuth: false)
        case (_, .tls): return .closedByPeer
        }
    }

    private static func describe(_ closed: TransportStack.Closed) -> String {
        switch closed {
        case .tls: return "TLS close_notify"
        case .webSocket(let close):
            let code = close.code.map { "\($0)" } ?? "no code"
            return close.reason.isEmpty ? "WebSocket close (\(code))" : "WebSocket close (\(code) \(close.reason))"
        }
    }

    private static func describe(_ reason: CloseReason) -> String {
        switch reason {
        case .error(let error): return "failed (\(error))"
        default: return "closed (\(reason))"
        }
    }

    /// Whether `id` is this session's current connection (adopting it if the reactor reported it from inside
    /// our own `connect` call, before we stored the id).
    private func adopt(_ id: ConnectionID) -> Bool {
        if id == connection { return true }
        if connection == nil && inConnectCall {
            connection = id
            return true
        }
        return false
    }

    // MARK: - State machine glue

    private func feed(_ input: RoomStateMachine.Input) {
        guard !quiesced else { return }
        var next: RoomStateMachine.Input? = input
        while let current = next {
            next = nil
            let now = RoomClock.monotonicNanos()
            phaseBeforeInput = machine.phase
            for action in machine.handle(current, now: now, timing: core.timing) {
                perform(action, now: now)
            }
            next = deferred
            deferred = nil
        }
        if machine.phase != publishedPhase {
            publishedPhase = machine.phase
            let phase = publishedPhase
            counters.update { $0.phase = phase }
            if phase == .live { transport.wentLive() }
            // A room that just went live under pressure pauses now (it was read while authenticating).
            applyReadState()
        }
    }

    private func perform(_ action: RoomStateMachine.Action, now: Int64) {
        switch action {
        case .resolve(let refresh):
            core.requestResolution(for: room, refresh: refresh)
        case .connect(let hostIndex):
            connect(hostIndex: hostIndex)
        case .sendAuth:
            guard let connection, let endpoint else { return }
            let body = AuthBody(
                uid: endpoint.uid, roomID: endpoint.roomID ?? room, protover: core.configuration.protover,
                key: endpoint.token, buvid: endpoint.buvid)
            writePackets(Packet.auth(body), on: connection)
        case .sendHeartbeat:
            guard let connection else { return }
            writePackets(CollectorCore.heartbeatPacket, on: connection)
        case .close:
            closeConnection()
            readingPaused = false
            counters.update { $0.isReadingPaused = false }
        case .setTimer(let deadline):
            cancelTimer()
            let delay = Duration.nanoseconds(max(0, deadline - now))
            timer = core.reactor.schedule(after: delay) { [weak self] in
                guard let self else { return }
                self.timer = nil
                self.feed(.timer)
            }
        case .cancelTimer:
            cancelTimer()
        case .failed(let failure):
            counters.record(failure)
            let beforeLive = phaseBeforeInput == .connecting || phaseBeforeInput == .authenticating
            if beforeLive, transport.attemptFailedBeforeLive() {
                counters.update { $0.transportFallbacks += 1 }
            }
        case .reconnecting:
            counters.update { $0.reconnects += 1 }
        }
    }

    private func connect(hostIndex: Int) {
        guard let endpoint, !endpoint.hosts.isEmpty else {
            deferred = .closed(.connectFailed("no server address"))
            return
        }
        let host = endpoint.hosts[hostIndex % endpoint.hosts.count]
        let kind = transport.current
        do throws(TransportError) {
            let (stack, tlsKey) = try core.makeTransportStack(kind, server: host.server)
            layers = kind == .tcp ? nil : ConnectionLayers(stack: stack, tlsKey: tlsKey)
        } catch {
            layers = nil
            deferred = .closed(.transportFailed(error.description))
            return
        }
        let local = core.configuration.bindAddress(forRoom: room)
        counters.update {
            $0.transport = kind
            $0.localAddress = local
        }
        let address = host.address(for: kind)
        connectionNumber &+= 1
        frames = FrameDecoder(maxPacketLength: core.configuration.maxPacketLength)
        inConnectCall = true
        defer { inConnectCall = false }
        do throws(SystemError) {
            // No reactor timer: the state machine already armed the room's one timer for the connect timeout.
            let id = try core.reactor.connect(to: address, from: local, timeout: nil, handler: self)
            if connection == nil && machine.phase == .connecting { connection = id }
        } catch {
            deferred = .closed(.connectFailed(error.description))
        }
    }

    /// Writes packets (AUTH, heartbeats) through the stack: as they are for TCP, one WebSocket message else.
    private func writePackets(_ packets: [UInt8], on id: ConnectionID) {
        guard let layers else { return core.reactor.write(id, packets) }
        do throws(TransportError) {
            let bytes = try layers.stack.wrap(packets)
            if !bytes.isEmpty { core.reactor.write(id, bytes) }
        } catch {
            // Inside `perform`: close now, report after the current actions.
            connection = nil
            core.reactor.close(id)
            deferred = .closed(.transportFailed(error.description))
        }
    }

    private func enqueue(_ batch: [Frame], cost: Int, receivedAt: Int64) {
        guard !batch.isEmpty else { return }
        let pipeline = self.pipeline
        let number = connectionNumber
        if queue.enqueue(cost: cost, { pipeline.process(batch, receivedAt: receivedAt, connection: number) }) {
            queueFull = true
            applyReadState()
        }
    }

    private func cancelTimer() {
        if let timer {
            core.reactor.cancel(timer)
            self.timer = nil
        }
    }
}

/// The transport state of one ws/wss connection of a `RoomSession` (loop-confined with it).
final class ConnectionLayers {
    var stack: TransportStack
    /// The TLS session cache key (server name and port); nil for ws.
    let tlsKey: String?
    /// What the transport handshake waits for ("TLS handshake", "WebSocket upgrade"); nil once ready.
    var handshakeStage: String?
    /// The connection already stored its TLS session for the next connect to its host.
    var tlsSessionStored = false

    init(stack: TransportStack, tlsKey: String?) {
        self.stack = stack
        self.tlsKey = tlsKey
    }
}
