import EventLoop

/// `RoomSession`'s read path and connection reports (`ConnectionHandler`): bytes through the transport layers,
/// cut into packets, enqueued for the room's worker as one `FrameBatch` per read; opens and closes judged by the
/// phase they happen in. Loop-confined, like the session.
extension RoomSession {
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
    func deliver(_ bytes: UnsafeRawBufferPointer, socketBytes: Int) {
        let now = RoomClock.monotonicNanos()
        let receivedAt = RoomClock.unixNanos()
        // One copy of the packets this read completes, into one buffer sized for them (issue 11).
        var batch = FrameBatch(capacityHint: bytes.count + frames.bufferedByteCount)
        var authCode: Int?
        var failure: ProtocolError?
        do throws(ProtocolError) {
            try frames.feedPackets(bytes) { header, packet in
                if header.operation == .authReply && authCode == nil {
                    authCode = AuthReply.code(UnsafeRawBufferPointer(rebasing: packet[PacketHeader.size...])) ?? -1
                }
                batch.append(packet: packet)
            }
        } catch {
            failure = error
        }
        // Frames cut before a bad header are still delivered; the connection then goes.
        counters.received(bytes: socketBytes, frames: batch.count, at: receivedAt)
        enqueue(batch, receivedAt: receivedAt, readAt: now)
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
    func failTransport(_ why: String) {
        guard let current = connection else { return }
        connection = nil
        core.reactor.closeAfterFlush(current)
        readingPaused = false
        counters.update { $0.isReadingPaused = false }
        feed(.closed(.transportFailed(why)))
    }

    /// The server closed at the WebSocket or TLS layer: judged like a TCP close in the same phase, except that a
    /// WebSocket close keeps its code and reason (a 1008 from risk control reads differently from a 1001).
    func peerClosedFailure(_ closed: TransportStack.Closed) -> RoomFailure {
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

    static func describe(_ closed: TransportStack.Closed) -> String {
        switch closed {
        case .tls: return "TLS close_notify"
        case .webSocket(let close):
            let code = close.code.map { "\($0)" } ?? "no code"
            return close.reason.isEmpty ? "WebSocket close (\(code))" : "WebSocket close (\(code) \(close.reason))"
        }
    }

    static func describe(_ reason: CloseReason) -> String {
        switch reason {
        case .error(let error): return "failed (\(error))"
        default: return "closed (\(reason))"
        }
    }

    /// Whether `id` is this session's current connection (adopting it if the reactor reported it from inside
    /// our own `connect` call, before we stored the id).
    func adopt(_ id: ConnectionID) -> Bool {
        if id == connection { return true }
        if connection == nil && inConnectCall {
            connection = id
            return true
        }
        return false
    }

    func enqueue(_ batch: FrameBatch, receivedAt: Int64, readAt: Int64) {
        guard !batch.isEmpty else { return }
        let pipeline = self.pipeline
        let number = connectionNumber
        let cost = batch.wireLength
        // Stage times only when someone asked for them (`Configuration.onBatchTimings`).
        let stamps =
            core.configuration.onBatchTimings == nil
            ? nil : (loopWokeAt: core.reactor.turnStartedAt, queuedAt: UInt64(max(0, readAt)))
        let job: @Sendable () -> Void = {
            pipeline.process(batch, receivedAt: receivedAt, connection: number, stamps: stamps)
        }
        if queue.enqueue(cost: cost, job) {
            queueFull = true
            applyReadState()
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
