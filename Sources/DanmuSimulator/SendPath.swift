import EventLoop

/// Writing op-5 messages: the rate sender (visited from the wheel), the flood pump, batching, and the
/// message-count faults that cut a batch at exactly N messages.
extension SimulatorCore {
    /// Messages generated per flood write round (several batches go out in one write).
    static let floodChunkMessages = 64
    /// Bytes a flood pump may write for one connection before yielding to the others.
    static let floodBudgetBytes = 1 << 20
    /// Bytes all flood pumps of one tick may write together. Without this bound a tick pumped every flooder up to
    /// its own budget (100 rooms: ~100 MiB of generating and compressing in one loop turn), and under CPU pressure
    /// new connections waited seconds for their AUTH_REPLY, past the client's 5 s auth timeout.
    static let floodTickBudgetBytes = 8 << 20

    /// Serves a connection visited by the wheel. Returns whether it stays in the wheel.
    func serveRate(_ client: ClientConnection, now: UInt64) -> Bool {
        guard client.isSending else { return false }
        guard now >= client.nextDue else { return true }  // visited a revolution early
        let due = Int((now - client.nextDue) / intervalNanoseconds) + 1
        // A reader that does not keep up gets nothing new (the messages are not generated, so its sequence
        // numbers stay contiguous) instead of an ever-growing queue in our memory; it owes nothing either.
        guard client.queuedBytes <= configuration.maxQueuedBytesPerConnection else {
            client.nextDue &+= UInt64(due) &* intervalNanoseconds
            return true
        }
        // A late tick pays at most `maxMessagesPerVisit` now; the rest stays due for the next ticks.
        let paid = min(due, maxMessagesPerVisit)
        client.nextDue &+= UInt64(paid) &* intervalNanoseconds
        let count = min(paid, remainingMessages(room: client.room))
        if count > 0 { sendMessages(client, count) }
        return client.isSending && remainingMessages(room: client.room) > 0
    }

    /// Flood mode: writes while the socket takes everything at once, up to `budget` bytes; a blocked socket
    /// resumes from `connectionDidDrainWrites`, an unblocked one from the next tick. Returns the bytes written.
    @discardableResult
    func pumpFlood(_ client: ClientConnection, budget: Int = SimulatorCore.floodBudgetBytes) -> Int {
        if broadcasts { return pumpBroadcastFlood(client, budget: budget) }
        var written = 0
        while written < budget, client.isFlooding, client.queuedBytes == 0 {
            let remaining = remainingMessages(room: client.room)
            if remaining == 0 {
                client.floodDone = true
                break
            }
            let bytes = sendMessages(
                client, min(remaining, max(SimulatorCore.floodChunkMessages, configuration.batchSize)))
            if bytes == 0 { break }
            written += bytes
        }
        return written
    }

    /// One tick's share of flooding: pumps the flooders in turn, starting where the last tick stopped, until the
    /// tick's budget is spent, so a loop turn stays short and AUTH packets are answered promptly.
    func pumpFloodersForTick() {
        var budget = SimulatorCore.floodTickBudgetBytes
        var visited = 0
        while visited < flooders.count, budget > 0 {
            let client = flooders[(floodCursor + visited) % flooders.count]
            budget -= pumpFlood(client, budget: min(budget, SimulatorCore.floodBudgetBytes))
            visited += 1
        }
        if !flooders.isEmpty { floodCursor = (floodCursor + visited) % flooders.count }
        flooders.removeAll { !$0.isFlooding }
    }

    /// Generates and writes up to `count` messages (fewer if a fault closes or stalls the connection) in
    /// batches of `batchSize`, all in one write. Returns the bytes written.
    @discardableResult
    func sendMessages(_ client: ClientConnection, _ count: Int) -> Int {
        var out: [UInt8] = []
        swap(&out, &outBuffer)
        defer {
            out.removeAll(keepingCapacity: true)
            swap(&out, &outBuffer)
        }
        let monotonicNs = SimulatedMessageID.monotonicNow()
        let unixMs = unixMilliseconds()
        var remaining = count
        var messages = 0
        var danmaku = 0
        var closeAfter = applyDueFaults(client, into: &out)
        while remaining > 0, client.isSending, !closeAfter, client.pendingFaultFrame == nil {
            var batch = min(remaining, configuration.batchSize)
            if let limit = client.faults.messagesUntilNextFault(sent: client.messagesOnConnection) {
                batch = min(batch, limit)
            }
            guard batch > 0 else { break }
            danmaku += generator.appendBatch(
                batch, compression: client.compression,
                stream: &rooms[client.room]!.stream, monotonicNs: monotonicNs,
                unixMs: unixMs, masked: client.seesMaskedNames, scratch: &scratch, into: &out)
            client.messagesOnConnection += batch
            remaining -= batch
            messages += batch
            closeAfter = applyDueFaults(client, into: &out)
        }
        let bytes = out.count
        if bytes > 0 {
            client.send(out)
            store.recordMessages(
                room: client.room, messages: messages, danmaku: danmaku,
                lastSeq: rooms[client.room]!.stream.lastSeq, bytes: bytes)
        }
        finishFaults(client, closeAfter: closeAfter)
        return bytes
    }

    /// After a write of messages: the pending WebSocket fault frame, then the close a fault asked for.
    func finishFaults(_ client: ClientConnection, closeAfter: Bool) {
        var closeAfter = closeAfter
        if let frame = client.pendingFaultFrame {
            // After the messages before it, as one raw write: the fault sits exactly after N messages.
            client.pendingFaultFrame = nil
            client.sendRawFrame(frame.bytes, endsConnection: frame.endsConnection)
            if frame.endsConnection { closeAfter = true }
        }
        if closeAfter { client.closeAfterFlush() }
    }

    /// Fires the message-count faults due at the connection's current count (each once). Returns whether the
    /// connection must be closed after the bytes in `out` are flushed.
    func applyDueFaults(_ client: ClientConnection, into out: inout [UInt8]) -> Bool {
        let sent = client.messagesOnConnection
        var fired = 0
        var close = false
        if client.faults.garbageAfter == sent {
            out.append(contentsOf: ServerPackets.garbageHeader)
            client.faults.garbageAfter = nil
            fired += 1
        }
        if client.faults.absurdAfter == sent {
            out.append(contentsOf: ServerPackets.absurdLength)
            client.faults.absurdAfter = nil
            fired += 1
        }
        if client.faults.stallAfter == sent {
            client.stalled = true
            client.faults.stallAfter = nil
            fired += 1
        }
        if let due = client.faults.webSocketFrameAfter, due.messages == sent {
            client.faults.webSocketFrameAfter = nil
            if client.isWebSocket {
                client.pendingFaultFrame = due.fault
                fired += 1  // `sendMessages` stops generating: nothing may come between the N messages and it
            }
        }
        if client.faults.closeAfter == sent {
            client.faults.closeAfter = nil
            close = true
            fired += 1
        }
        if fired > 0 { recordFaults(room: client.room, count: fired) }
        return close
    }

    func recordFaults(room: Int64, count: Int) {
        store.update { stats in
            stats.faultsTriggered &+= UInt64(count)
            modify(&stats.rooms[room, default: SimulatedRoomStatistics(room: room)]) {
                $0.faultsTriggered &+= UInt64(count)
            }
        }
    }
}
