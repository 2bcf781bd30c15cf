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
    unowned let core: CollectorCore
    var machine: RoomStateMachine
    var frames: FrameDecoder
    var endpoint: SessionEndpoint?
    var connection: ConnectionID?
    /// The WebSocket (and TLS) layers of the current connection, fresh per connection; nil for TCP, which has
    /// none: a TCP room pays one pointer for transports, not a `TransportStack` value inline.
    var layers: ConnectionLayers?
    var transport: TransportChoice
    /// The phase before the input being handled (`perform` sees the phase after it).
    private var phaseBeforeInput = RoomPhase.idle
    /// Numbers connections so a worker's late protocol-error report names the one it is about.
    var connectionNumber: UInt32 = 0
    private var timer: TimerID?
    var queueFull = false
    var readingPaused = false
    var inConnectCall = false
    var quiesced = false
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

    // MARK: - State machine glue

    func feed(_ input: RoomStateMachine.Input) {
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
            let fire: () -> Void = { [weak self] in
                guard let self else { return }
                self.timer = nil
                self.feed(.timer)
            }
            if machine.phase == .live {
                // Heartbeats and the watchdog tolerate a late second; aligned, the rooms due in the same interval
                // share one wake-up of the loop. The handshake timeouts and backoff keep their own millisecond.
                timer = core.reactor.schedule(at: UInt64(max(0, deadline)), leeway: core.timing.liveLeeway, fire)
            } else {
                timer = core.reactor.schedule(after: .nanoseconds(max(0, deadline - now)), fire)
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

    private func cancelTimer() {
        if let timer {
            core.reactor.cancel(timer)
            self.timer = nil
        }
    }
}
