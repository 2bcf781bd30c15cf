import DanmuClient
import EventLoop

/// The simulator's loop-confined state: listener, room table, connections, the one tick timer and its send wheel.
///
/// `@unchecked Sendable` only so the public `Simulator` can hold it; every method runs on the reactor's thread
/// (`Simulator` reaches it through `onLoop`, the reactor calls the handler methods on its thread).
final class SimulatorCore: ListenerHandler, @unchecked Sendable {
    enum Lifecycle { case idle, running, stopped }

    /// A room's state that outlives connections.
    struct Room {
        var stream: RoomStream
        /// Connections that authenticated so far (numbers them for `FaultRule.firstConnections`).
        var connections = 0
        /// Broadcast only (`BroadcastPath`): emitted messages not yet delivered everywhere, the authenticated
        /// connections receiving them, and the room's own place in `roomWheel`.
        var backlog = RoomBacklog()
        /// The same messages as guests see them (`masksGuestNames`), numbered as `backlog`; each of the two is
        /// encoded once per room, and only while a connection of its variant listens.
        var maskedBacklog = RoomBacklog()
        var members: [ClientConnection] = []
        var nextDue: UInt64 = 0
        var scheduled = false
    }

    let reactor: Reactor
    let configuration: Simulator.Configuration
    let store: StatisticsStore
    let generator: MessageGenerator
    /// The HTTP API's site: when set, AUTH keys must be tokens it handed out.
    let site: SimulatedSite?
    let intervalNanoseconds: UInt64  // 0 = flood
    /// Rate mode: the most messages one visit of a wheel writes for a connection (`serveRate`) or emits for a
    /// room (`serveRoom`): `catchUpTicks` ticks' worth at the configured rate, at least one batch. A late tick
    /// owes more; the rest stays due (the entry comes back the next tick) and is paid in the following visits,
    /// so a loop turn costs at most rooms × this however late it is. Without the bound a loaded machine ran
    /// away: each late tick generated everything due in one turn, which made the next tick later still, until a
    /// turn of 4.3 s wrote ~145 messages to each of 20 rooms in turn, answered no heartbeat meanwhile, and the
    /// collector's 4 s watchdog closed the rooms served last (CollectorTransportTests over wss, 2 cores at load 7).
    let maxMessagesPerVisit: Int
    /// A loop that ticks at least every 8 ticks (40 ms at the default 5 ms) keeps the full rate; a slower one
    /// sends slower rather than in ever longer turns.
    static let catchUpTicks = 8

    private(set) var lifecycle = Lifecycle.idle
    private var listener: ListenerID?
    private var webSocketListener: ListenerID?
    private var secureListener: ListenerID?
    private var tlsContext: TLSContext?
    /// ws/wss connections accepted so far (numbers them for `handshakeFaults`).
    private var webSocketConnections = 0
    private(set) var addresses: SimulatorAddresses?
    private var tickTimer: TimerID?
    private var tinyTimer: TimerID?
    var rooms: [Int64: Room] = [:]
    var connections: [ConnectionID: ClientConnection] = [:]
    var wheel: SendWheel<ClientConnection>
    /// Broadcast rate mode: rooms (not connections) are due, each emits to all its connections.
    var roomWheel: SendWheel<Int64>
    /// Flood mode: authenticated connections that still have messages to send.
    var flooders: [ClientConnection] = []
    /// Where the next tick starts pumping `flooders` (round-robin under the tick budget).
    var floodCursor = 0
    /// Connections of the tinyWrites fault with bytes still to dribble out.
    var tinyWriters: [ClientConnection] = []
    /// Connections waiting for AUTH, in accept order (deadlines are monotonic: a FIFO, not a timer each).
    private var authQueue: [(connection: ClientConnection, deadline: UInt64)] = []
    private var authQueueHead = 0
    /// ws/wss connections whose upgrade is not done yet, in accept order. Their AUTH deadline starts at the 101:
    /// counted from the accept, a burst of 2,000 TLS handshakes on one loop thread took longer than the 5 s
    /// and the simulator closed half of them before they could send AUTH.
    private var handshakeQueue: [(connection: ClientConnection, deadline: UInt64)] = []
    private var handshakeQueueHead = 0
    /// When the next heartbeat-timeout sweep over `connections` is due (monotonic ns).
    private var nextHeartbeatSweep: UInt64 = 0
    /// Reused buffers (loop thread only).
    var outBuffer: [UInt8] = []
    var scratch: [UInt8] = []

    /// `Configuration.masksGuestNames`, resolved.
    var masksGuestNames: Bool { Self.resolveMasking(configuration) }

    static func resolveMasking(_ configuration: Simulator.Configuration) -> Bool {
        configuration.masksGuestNames ?? (configuration.httpAPIListen != nil)
    }

    init(reactor: Reactor, configuration: Simulator.Configuration, store: StatisticsStore, site: SimulatedSite? = nil) {
        self.reactor = reactor
        self.site = site
        self.configuration = configuration
        self.store = store
        self.generator = MessageGenerator(mix: configuration.mix)
        let interval =
            configuration.ratePerRoom > 0
            ? max(1, UInt64((1e9 / configuration.ratePerRoom).rounded())) : 0
        self.intervalNanoseconds = interval
        let tick = UInt64(max(1, configuration.tickInterval.nanoseconds))
        let perTick =
            interval == 0 ? 0 : Int(min((tick + interval - 1) / interval, UInt64(Int.max / Self.catchUpTicks)))
        self.maxMessagesPerVisit = max(configuration.batchSize, Self.catchUpTicks * perTick)
        self.wheel = SendWheel(
            tickNanoseconds: max(1, configuration.tickInterval.nanoseconds), slotCount: 1024,
            startNanoseconds: 0)
        self.roomWheel = SendWheel(tickNanoseconds: wheel.tickNanoseconds, slotCount: 1024, startNanoseconds: 0)
    }

    func start() -> Result<SimulatorAddresses, SimulatorError> {
        reactor.assertInLoop()
        guard lifecycle == .idle else { return .failure(.alreadyStarted) }
        if configuration.secureWebSocketListen != nil {
            guard let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile else {
                return .failure(.tls("a wss endpoint needs a certificate and a key file"))
            }
            do throws(TLSError) {
                tlsContext = try TLSContext(certificateChainFile: certificate, privateKeyFile: key)
            } catch {
                return .failure(.tls(error.description))
            }
        }
        let id: ListenerID
        do throws(SystemError) {
            id = try reactor.listen(on: configuration.listen, handler: self)
            if let address = configuration.webSocketListen {
                webSocketListener = try reactor.listen(on: address, handler: self)
            }
            if let address = configuration.secureWebSocketListen {
                secureListener = try reactor.listen(on: address, handler: self)
            }
        } catch {
            for other in [webSocketListener, secureListener].compactMap({ $0 }) { reactor.stopListening(other) }
            return .failure(.listen(error))
        }
        lifecycle = .running
        listener = id
        wheel = SendWheel(tickNanoseconds: wheel.tickNanoseconds, slotCount: 1024, startNanoseconds: reactor.now)
        roomWheel = SendWheel(tickNanoseconds: wheel.tickNanoseconds, slotCount: 1024, startNanoseconds: reactor.now)
        tickTimer = reactor.schedule(after: configuration.tickInterval, repeating: configuration.tickInterval) {
            self.tick()  // strong: the core lives until stop() cancels this timer
        }
        let bound = SimulatorAddresses(
            tcp: reactor.localAddress(of: id) ?? configuration.listen,
            ws: webSocketListener.flatMap { reactor.localAddress(of: $0) },
            wss: secureListener.flatMap { reactor.localAddress(of: $0) })
        addresses = bound
        return .success(bound)
    }

    func stop() {
        reactor.assertInLoop()
        guard lifecycle == .running else {
            lifecycle = .stopped
            return
        }
        lifecycle = .stopped
        for id in [listener, webSocketListener, secureListener].compactMap({ $0 }) { reactor.stopListening(id) }
        webSocketListener = nil
        secureListener = nil
        if let tickTimer { reactor.cancel(tickTimer) }
        if let tinyTimer { reactor.cancel(tinyTimer) }
        listener = nil
        tickTimer = nil
        tinyTimer = nil
        // close() delivers didClose synchronously, which removes the entry: iterate over a copy.
        for id in Array(connections.keys) { reactor.close(id) }
        connections.removeAll()
        flooders.removeAll()
        tinyWriters.removeAll()
        authQueue.removeAll()
        authQueueHead = 0
        handshakeQueue.removeAll()
        handshakeQueueHead = 0
        wheel = SendWheel(tickNanoseconds: wheel.tickNanoseconds, slotCount: 1, startNanoseconds: 0)
        roomWheel = SendWheel(tickNanoseconds: wheel.tickNanoseconds, slotCount: 1, startNanoseconds: 0)
    }

    // MARK: ListenerHandler

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        let client = ClientConnection(id: connection, core: self, transport: makeTransport(for: listener))
        connections[connection] = client
        if client.isWebSocket {
            handshakeQueue.append((client, reactor.now &+ configuration.handshakeTimeout.nanoseconds))
        } else {
            armAuthDeadline(client)
        }
        store.update {
            $0.connectionsAccepted &+= 1
            $0.connectionsOpen += 1
        }
        return client
    }

    /// TCP for the main listener; the WebSocket layers (over TLS for wss) for the others.
    private func makeTransport(for listener: ListenerID) -> ServerTransport {
        let secure = listener == secureListener
        guard listener == webSocketListener || secure else { return .tcp }
        webSocketConnections += 1
        var fault: ServerTransport.HandshakeFault?
        for rule in configuration.handshakeFaults where webSocketConnections <= rule.firstConnections {
            fault = rule.fault == .stallUpgrade ? .stall : .badAccept
        }
        var tls: TLSLayer?
        if secure, let tlsContext {
            tls = try? TLSLayer(serverContext: tlsContext)
        }
        return ServerTransport(kind: secure ? .wss : .ws, tls: tls, fault: fault)
    }

    func connectionDidClose(_ client: ClientConnection) {
        connections[client.id] = nil
        if broadcasts, client.broadcastCursor != ClientConnection.notJoined { leaveBroadcast(client) }
        store.update { $0.connectionsOpen -= 1 }
    }

    // MARK: Rooms

    /// Registers a successful AUTH; returns the room's connection number (1-based).
    func admit(room: Int64) -> Int {
        var entry = rooms[room] ?? Room(stream: RoomStream(room: room, cycleLength: generator.cycle.count))
        entry.connections += 1
        rooms[room] = entry
        return entry.connections
    }

    /// Messages the room may still send under `messageLimitPerRoom` (Int.max without a limit).
    func remainingMessages(room: Int64) -> Int {
        guard let limit = configuration.messageLimitPerRoom else { return .max }
        let sent = rooms[room].map { Int($0.stream.messagesSent) } ?? 0
        return max(0, limit - sent)
    }

    /// Starts serving an authenticated connection: flood pump or a place in the send wheel.
    func beginSending(_ client: ClientConnection) {
        if broadcasts { return joinBroadcast(client) }
        if intervalNanoseconds == 0 {
            flooders.append(client)
            pumpFlood(client)
        } else {
            // A per-room phase inside the first interval spreads 10,000 rooms that connect at once.
            let phase = UInt64(bitPattern: client.room &* 0x9E37_79B9) % intervalNanoseconds
            client.nextDue = reactor.now &+ phase
            wheel.insert(client, dueNanoseconds: client.nextDue)
        }
    }

    // MARK: The tick

    private func tick() {
        let now = reactor.now
        expireAuthDeadlines(now: now)
        sweepHeartbeats(now: now)
        wheel.advance(to: now) { wheel, client in
            guard self.serveRate(client, now: now) else { return }
            wheel.insert(client, dueNanoseconds: client.nextDue)
        }
        roomWheel.advance(to: now) { wheel, room in
            guard self.serveRoom(room, now: now) else { return }
            wheel.insert(room, dueNanoseconds: self.rooms[room]!.nextDue)
        }
        if !flooders.isEmpty { pumpFloodersForTick() }
    }

    /// The first packet must be AUTH within `authTimeout` from now (TCP: the accept; ws/wss: the 101).
    func armAuthDeadline(_ client: ClientConnection) {
        authQueue.append((client, reactor.now &+ configuration.authTimeout.nanoseconds))
    }

    private func expireAuthDeadlines(now: UInt64) {
        Self.expire(&authQueue, head: &authQueueHead, now: now) { $0.authDeadlinePassed() }
        Self.expire(&handshakeQueue, head: &handshakeQueueHead, now: now) { $0.handshakeDeadlinePassed() }
    }

    /// Closes live connections that stopped heart-beating. A sweep, not a deadline per connection: heartbeats
    /// arrive every 30 s on 10,000 connections, and a timer update per heartbeat would cost more than one walk
    /// over the table every `min(timeout / 4, 1 s)`.
    private func sweepHeartbeats(now: UInt64) {
        guard let timeout = configuration.heartbeatTimeout, now >= nextHeartbeatSweep else { return }
        let limit = UInt64(max(1, timeout.nanoseconds))
        nextHeartbeatSweep = now &+ min(limit / 4, UInt64(Duration.seconds(1).nanoseconds))
        for client in connections.values { _ = client.heartbeatDeadlinePassed(now: now, timeout: limit) }
    }

    /// Pops the due entries of a deadline FIFO (deadlines only grow: one duration, monotonic clock).
    private static func expire(
        _ queue: inout [(connection: ClientConnection, deadline: UInt64)], head: inout Int, now: UInt64,
        _ body: (ClientConnection) -> Void
    ) {
        while head < queue.count, queue[head].deadline <= now {
            let client = queue[head].connection
            head += 1
            body(client)
        }
        if head > 1024, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    // MARK: Tiny writes

    func enqueueTiny(_ client: ClientConnection) {
        tinyWriters.append(client)
        guard tinyTimer == nil else { return }
        tinyTimer = reactor.schedule(
            after: configuration.tinyWriteInterval,
            repeating: configuration.tinyWriteInterval
        ) {
            self.dribble()
        }
    }

    private func dribble() {
        for client in tinyWriters { client.dribble(pieces: max(1, configuration.tinyWriteBurst)) }
        tinyWriters.removeAll { !$0.hasTinyBytes }
        if tinyWriters.isEmpty, let tinyTimer {
            reactor.cancel(tinyTimer)
            self.tinyTimer = nil
        }
    }
}
