import DanmuClient
import EventLoop

/// One accepted client: AUTH check, heartbeat replies, and the per-connection send state.
/// Loop-confined (the reactor calls it on its thread; the core drives the sending).
final class ClientConnection: ConnectionHandler {
    enum State { case awaitingAuth, silent, live, closed }

    let id: ConnectionID
    /// TCP, or the WebSocket (and TLS) layers of the ws/wss endpoints under the packets.
    private var transport: ServerTransport
    // Strong on purpose: a connection may outlive a Simulator that was dropped without stop(); the cycle
    // core → connections → client → core is broken when the connection closes.
    let core: SimulatorCore
    private(set) var state = State.awaitingAuth
    private(set) var room: Int64 = 0
    var faults = ActiveFaults.none
    private(set) var compression = Compression.none
    /// A guest (AUTH `uid` 0) while the simulator masks guests' names (`masksGuestNames`): this connection gets
    /// the masked variant of DANMU_MSG.
    private(set) var seesMaskedNames = false
    /// op-5 messages written on this connection (fault thresholds count these).
    var messagesOnConnection = 0
    /// Monotonic ns of the AUTH or of the last heartbeat (op 2) received while live (`heartbeatTimeout`).
    private(set) var lastHeartbeatAt: UInt64 = 0
    /// Rate mode: when the next message is due (monotonic ns).
    var nextDue: UInt64 = 0
    /// The stall fault fired: no more output of any kind, input ignored, socket kept open.
    var stalled = false
    /// A WebSocket frame fault due after the current write (`SendPath`).
    var pendingFaultFrame: WebSocketFrameFault?
    var isWebSocket: Bool { transport.kind != .tcp }
    /// closeAfterFlush was requested.
    private(set) var closing = false
    /// Flood mode: the room reached its message limit.
    var floodDone = false
    /// Broadcast (`Delivery.everyConnection`): number of the room's next message this connection needs;
    /// `notJoined` until it joined the room's broadcast.
    var broadcastCursor = ClientConnection.notJoined
    static let notJoined = UInt64.max
    /// Client packets are tiny; anything over 64 KiB is an attack or a bug.
    private var decoder = FrameDecoder(maxPacketLength: 64 << 10)
    // tinyWrites fault: bytes not yet dribbled out.
    private var tinyQueue: [UInt8] = []
    private var tinyOffset = 0
    private var tinyCounter = 0
    private var closeWhenTinyDrained = false

    init(id: ConnectionID, core: SimulatorCore, transport: ServerTransport = .tcp) {
        self.id = id
        self.core = core
        self.transport = transport
    }

    var isSending: Bool { state == .live && !stalled && !closing }
    var isFlooding: Bool { isSending && !floodDone }
    var hasTinyBytes: Bool { state != .closed && tinyOffset < tinyQueue.count }
    /// Bytes written by us but not yet taken by the kernel.
    var queuedBytes: Int { core.reactor.pendingWriteBytes(id) + (tinyQueue.count - tinyOffset) }

    // MARK: ConnectionHandler

    func connectionDidOpen(_ connection: ConnectionID) {}

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        core.store.update { $0.bytesReceived &+= UInt64(bytes.count) }
        guard state != .closed, !stalled, !closing else { return }
        guard transport.kind != .tcp else { return decode(bytes) }
        let output = transport.feed(bytes)
        if !output.outgoing.isEmpty { core.reactor.write(id, output.outgoing) }
        if output.failure != nil || output.closed {
            if state == .awaitingAuth, output.failure != nil { core.store.update { $0.authsFailed &+= 1 } }
            closing = true
            core.reactor.closeAfterFlush(id)
            return
        }
        if output.upgraded {
            let resumed = transport.isSessionReused
            core.store.update {
                $0.webSocketUpgrades &+= 1
                if resumed { $0.tlsResumptions &+= 1 }
            }
            core.armAuthDeadline(self)
        }
        if !output.packetBytes.isEmpty { output.packetBytes.withUnsafeBytes { decode($0) } }
    }

    private func decode(_ bytes: UnsafeRawBufferPointer) {
        do throws(ProtocolError) {
            try decoder.feed(bytes) { frame in self.handle(frame) }
        } catch {
            if state == .awaitingAuth { core.store.update { $0.authsFailed &+= 1 } }
            core.reactor.close(id)
        }
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
        state = .closed
        tinyQueue = []
        tinyOffset = 0
        core.connectionDidClose(self)
    }

    func connectionDidDrainWrites(_ connection: ConnectionID) {
        if isFlooding {
            core.pumpFlood(self)
        } else if core.broadcasts {
            core.catchUpBroadcast(self)  // rate mode: it was skipped while its queue was over the bound
        }
    }

    // MARK: Input

    private func handle(_ frame: Frame) {
        guard state != .closed, !stalled, !closing else { return }
        switch state {
        case .awaitingAuth:
            guard frame.header.operation == .auth else {
                rejectAuth(room: nil)  // the first packet must be AUTH
                return
            }
            authenticate(frame.body)
        case .live:
            guard frame.header.operation == .heartbeat else { return }  // others: ignored
            lastHeartbeatAt = core.reactor.now
            answerHeartbeat(frame.body)
        case .silent, .closed:
            return
        }
    }

    private func authenticate(_ body: [UInt8]) {
        let request: AuthRequest
        switch AuthRequest.parse(body, requiredKey: core.configuration.requiredKey) {
        case .failure(.unsupportedProtover(_, let room)), .failure(.wrongKey(let room)):
            rejectAuth(room: room)
            return
        case .failure:
            rejectAuth(room: nil)
            return
        case .success(let parsed):
            request = parsed
        }
        guard core.configuration.rooms.contains(request.roomID) else {
            rejectAuth(room: nil)
            return
        }
        // As the live site: only a token its getDanmuInfo issued for this room opens it.
        if let site = core.site, !site.accepts(token: request.key, room: request.roomID) {
            rejectAuth(room: request.roomID)
            return
        }
        room = request.roomID
        seesMaskedNames = core.masksGuestNames && request.uid == 0
        let number = core.admit(room: room)
        faults = ActiveFaults(rules: core.configuration.faults, room: room, connection: number)
        compression =
            switch core.configuration.compression {
            case .followProtover: Compression(protover: request.protover) ?? .none
            case .always(let forced): forced
            }
        let room = self.room
        core.store.update { stats in
            stats.authsOK &+= 1
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { $0.authsOK &+= 1 }
        }
        if faults.noAuthReply {
            state = .silent
            core.recordFaults(room: room, count: 1)
            return
        }
        state = .live
        lastHeartbeatAt = core.reactor.now
        send(ServerPackets.authReply)
        core.beginSending(self)
    }

    /// Like the live server: no reply, close.
    private func rejectAuth(room: Int64?) {
        core.store.update { stats in
            stats.authsFailed &+= 1
            if let room, core.configuration.rooms.contains(room) {
                modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { $0.authsFailed &+= 1 }
            }
        }
        core.reactor.close(id)
    }

    /// Called by the core's tick when the AUTH deadline of this connection passed.
    func authDeadlinePassed() {
        guard state == .awaitingAuth else { return }
        rejectAuth(room: nil)
    }

    /// Called by the core's heartbeat sweep: closes a live connection silent past `timeout` (as the live server).
    /// Returns whether it did.
    func heartbeatDeadlinePassed(now: UInt64, timeout: UInt64) -> Bool {
        guard state == .live, !stalled, !closing, now &- lastHeartbeatAt >= timeout else { return false }
        core.store.update { $0.heartbeatTimeouts &+= 1 }
        closeAfterFlush()
        return true
    }

    /// ws/wss: the upgrade did not complete within `handshakeTimeout` of the accept.
    func handshakeDeadlinePassed() {
        guard state == .awaitingAuth, !transport.isOpen else { return }
        rejectAuth(room: nil)
    }

    private func answerHeartbeat(_ body: [UInt8]) {
        if faults.noHeartbeatReply {
            core.recordFaults(room: room, count: 1)
            return
        }
        let echo: [UInt8] =
            switch core.configuration.heartbeatEcho {
            case .none: []
            case .clientBody: body
            case .objectObject: Array("[object Object]".utf8)
            }
        send(ServerPackets.heartbeatReply(popularity: core.configuration.popularity, echo: echo))
        let room = self.room
        core.store.update { stats in
            stats.heartbeatsAnswered &+= 1
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) { $0.heartbeatsAnswered &+= 1 }
        }
    }

    // MARK: Output

    /// Writes packets: as they are on TCP, as one WebSocket binary message on ws/wss.
    func send(_ packets: [UInt8]) {
        guard state != .closed, !packets.isEmpty else { return }
        sendRaw(transport.wrap(packets))
    }

    /// Writes a raw WebSocket frame (a fault), encrypted for wss.
    /// `endsConnection`: no close frame of ours may follow it (the fault frame is the last word).
    func sendRawFrame(_ frame: [UInt8], endsConnection: Bool) {
        sendRaw(transport.wrapRaw(frame))
        if endsConnection { transport.markWebSocketClosed() }
    }

    /// Writes socket bytes (already framed and encrypted).
    private func sendRaw(_ bytes: [UInt8]) {
        guard state != .closed, !bytes.isEmpty else { return }
        guard faults.tinyWrites else {
            core.reactor.write(id, bytes)
            return
        }
        let wasEmpty = !hasTinyBytes
        if tinyOffset > 0 && tinyOffset == tinyQueue.count {
            tinyQueue.removeAll(keepingCapacity: true)
            tinyOffset = 0
        }
        tinyQueue.append(contentsOf: bytes)
        if wasEmpty { core.enqueueTiny(self) }
    }

    func closeAfterFlush() {
        guard state != .closed, !closing else { return }
        // ws/wss: a close frame (1001 going away) and close_notify first, as a real server ends a stream.
        sendRaw(transport.close())
        closing = true
        if hasTinyBytes {
            closeWhenTinyDrained = true
        } else {
            core.reactor.closeAfterFlush(id)
        }
    }

    /// tinyWrites fault: writes up to `pieces` pieces of 1–3 bytes, each with its own write call.
    func dribble(pieces: Int) {
        for _ in 0..<pieces where hasTinyBytes {
            let size = min(1 + tinyCounter % 3, tinyQueue.count - tinyOffset)
            tinyCounter += 1
            core.reactor.write(id, Array(tinyQueue[tinyOffset..<tinyOffset + size]))
            tinyOffset += size
        }
        if state != .closed, !hasTinyBytes {
            tinyQueue.removeAll(keepingCapacity: false)
            tinyOffset = 0
            if closeWhenTinyDrained { core.reactor.closeAfterFlush(id) }
        }
    }
}
