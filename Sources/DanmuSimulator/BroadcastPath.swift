import DanmuClient
import EventLoop

/// `Delivery.everyConnection`: the room emits its message sequence once and every connection of the room
/// receives it from its join on.
///
/// Why a per-room backlog with per-connection cursors (and not one generator per connection): a message must be
/// the same bytes for every connection (same id_str, same CLOCK_MONOTONIC stamp), compression and the
/// message-count faults are per connection, and the rate and the limit are per room. So the room encodes each
/// message once as a plain ver-0 packet into its `RoomBacklog`; each connection copies (plain) or compresses
/// (ver 2/3) its own batches from its cursor. In rate mode the ROOM sits in `roomWheel` (one entry per room,
/// whatever its connection count) and emits while it has a connection; in flood mode the connection that has
/// everything emits the next chunk and the others follow as their sockets drain. A slow reader never holds the
/// room back: it is skipped while its queue is over `maxQueuedBytesPerConnection`, catches up from the backlog
/// when it drains, and past the backlog's bound (the same byte count) it loses the oldest messages
/// (`deliveriesSkipped`), as a live server drops what a stuck client cannot take.
extension SimulatorCore {
    var broadcasts: Bool { configuration.delivery == .everyConnection }

    /// A connection authenticated: it receives what the room emits from now on.
    func joinBroadcast(_ client: ClientConnection) {
        let room = client.room
        client.broadcastCursor = rooms[room]!.backlog.head
        rooms[room]!.members.append(client)
        if intervalNanoseconds == 0 {
            flooders.append(client)
            pumpFlood(client)
            return
        }
        guard !rooms[room]!.scheduled, remainingMessages(room: room) > 0 else { return }
        // The same per-room phase as the per-connection sender: 10,000 rooms that connect at once are spread.
        let phase = UInt64(bitPattern: room &* 0x9E37_79B9) % intervalNanoseconds
        rooms[room]!.scheduled = true
        rooms[room]!.nextDue = reactor.now &+ phase
        roomWheel.insert(room, dueNanoseconds: rooms[room]!.nextDue)
    }

    /// A connection closed: it no longer holds back the backlog.
    func leaveBroadcast(_ client: ClientConnection) {
        guard rooms[client.room] != nil else { return }
        rooms[client.room]!.members.removeAll { $0 === client }
        trimBacklog(client.room)
    }

    /// Rate mode: the room's turn in `roomWheel`. Emits what is due and hands it to every connection that keeps
    /// up. Returns whether the room stays in the wheel.
    func serveRoom(_ room: Int64, now: UInt64) -> Bool {
        guard rooms[room] != nil else { return false }
        rooms[room]!.members.removeAll { !$0.isSending }
        // No listener: the room pauses (as the per-connection sender does), so a reconnect continues the sequence.
        guard !rooms[room]!.members.isEmpty, remainingMessages(room: room) > 0 else {
            rooms[room]!.scheduled = false
            trimBacklog(room)
            return false
        }
        let nextDue = rooms[room]!.nextDue
        guard now >= nextDue else { return true }  // visited a revolution early
        // A late tick emits at most `maxMessagesPerVisit` now; the rest stays due for the next ticks.
        let due = min(Int((now - nextDue) / intervalNanoseconds) + 1, maxMessagesPerVisit)
        rooms[room]!.nextDue = nextDue &+ UInt64(due) &* intervalNanoseconds
        emit(room: room, count: min(due, remainingMessages(room: room)))
        for member in rooms[room]!.members where member.queuedBytes <= configuration.maxQueuedBytesPerConnection {
            deliver(member)
        }
        trimBacklog(room)
        if remainingMessages(room: room) == 0 {
            rooms[room]!.scheduled = false
            return false
        }
        return true
    }

    /// Flood mode: delivers what the room already emitted to this connection; when it has everything, emits the
    /// next chunk. Same contract as `pumpFlood`.
    func pumpBroadcastFlood(_ client: ClientConnection, budget: Int) -> Int {
        var written = 0
        while written < budget, client.isFlooding, client.queuedBytes == 0 {
            if client.broadcastCursor >= rooms[client.room]!.backlog.head {
                let remaining = remainingMessages(room: client.room)
                if remaining == 0 {
                    client.floodDone = true
                    break
                }
                emit(
                    room: client.room,
                    count: min(remaining, max(SimulatorCore.floodChunkMessages, configuration.batchSize)))
                // The others get the chunk now too (queued while under the bound): left for their own pump,
                // a reader that keeps up fell behind the backlog's bound during one pump of the driver (1 MiB)
                // and skipped messages it could have taken.
                for member in rooms[client.room]!.members
                where member !== client && member.isSending
                    && member.queuedBytes <= configuration.maxQueuedBytesPerConnection
                {
                    written += deliver(member)
                }
            }
            let bytes = deliver(client)
            if bytes == 0 { break }
            written += bytes
        }
        trimBacklog(client.room)
        return written
    }

    /// A rate-mode connection's socket drained: it catches up with the room's backlog (it was skipped while slow).
    func catchUpBroadcast(_ client: ClientConnection) {
        guard client.isSending, client.broadcastCursor < rooms[client.room]?.backlog.head ?? 0 else { return }
        deliver(client)
        trimBacklog(client.room)
    }

    /// Encodes the room's next `count` messages into its backlog (they consume sequence numbers and count against
    /// the limit here, once for all connections). With guests' names masked (`masksGuestNames`) a message has two
    /// variants, each encoded once per room into its own backlog while a connection of that variant listens (the
    /// other backlog only numbers the messages, so the cursors mean the same in both).
    private func emit(room: Int64, count: Int) {
        guard count > 0 else { return }
        let monotonicNs = SimulatedMessageID.monotonicNow()
        let unixMs = unixMilliseconds()
        var danmaku = 0
        let generator = self.generator
        let cap = configuration.maxQueuedBytesPerConnection
        modify(&rooms[room]!) { entry in
            var guests = false, loggedIn = false
            for member in entry.members where member.isSending {
                if member.seesMaskedNames { guests = true } else { loggedIn = true }
            }
            let start = entry.stream
            if loggedIn || !guests {
                for _ in 0..<count {
                    danmaku += entry.backlog.appendMessage { out in
                        generator.appendMessages(
                            1, stream: &entry.stream, monotonicNs: monotonicNs, unixMs: unixMs, into: &out)
                    }
                }
            } else {
                entry.backlog.trim(oldestNeeded: entry.backlog.head, maxBytes: cap)
                entry.backlog.skip(count)
            }
            if guests {
                var stream = start
                var guestDanmaku = 0
                for _ in 0..<count {
                    guestDanmaku += entry.maskedBacklog.appendMessage { out in
                        generator.appendMessages(
                            1, stream: &stream, monotonicNs: monotonicNs, unixMs: unixMs, masked: true, into: &out)
                    }
                }
                if !loggedIn {
                    entry.stream = stream
                    danmaku = guestDanmaku
                }
            } else {
                entry.maskedBacklog.trim(oldestNeeded: entry.maskedBacklog.head, maxBytes: cap)
                entry.maskedBacklog.skip(count)
            }
        }
        store.recordEmission(
            room: room, messages: count, danmaku: danmaku, lastSeq: rooms[room]!.stream.lastSeq)
    }

    /// Writes the connection's messages from its cursor to the room's head, in batches of `batchSize` compressed
    /// as the connection asked, cut at the message-count faults. Returns the bytes written.
    @discardableResult
    private func deliver(_ client: ClientConnection) -> Int {
        guard client.isSending,
            let backlog = client.seesMaskedNames ? rooms[client.room]?.maskedBacklog : rooms[client.room]?.backlog
        else { return 0 }
        var skipped = 0
        if client.broadcastCursor < backlog.base {
            skipped = Int(backlog.base - client.broadcastCursor)
            client.broadcastCursor = backlog.base
        }
        var out: [UInt8] = []
        swap(&out, &outBuffer)
        defer {
            out.removeAll(keepingCapacity: true)
            swap(&out, &outBuffer)
        }
        var messages = 0
        var closeAfter = applyDueFaults(client, into: &out)
        while client.broadcastCursor < backlog.head, client.isSending, !closeAfter, client.pendingFaultFrame == nil {
            var batch = min(Int(backlog.head - client.broadcastCursor), configuration.batchSize)
            if let limit = client.faults.messagesUntilNextFault(sent: client.messagesOnConnection) {
                batch = min(batch, limit)
            }
            guard batch > 0 else { break }
            let range = backlog.byteRange(from: client.broadcastCursor, count: batch)
            switch client.compression {
            case .none:
                out.append(contentsOf: backlog.bytes[range])
            case .zlib, .brotli:
                let compressed = BatchCompressor.compress(Array(backlog.bytes[range]), client.compression)
                Packet.append(
                    .message, protover: client.compression == .zlib ? 2 : 3, sequence: 0, body: compressed, to: &out)
            }
            client.broadcastCursor += UInt64(batch)
            client.messagesOnConnection += batch
            messages += batch
            closeAfter = applyDueFaults(client, into: &out)
        }
        let bytes = out.count
        if bytes > 0 { client.send(out) }
        if bytes > 0 || skipped > 0 {
            store.recordDelivery(room: client.room, messages: messages, bytes: bytes, skipped: skipped)
        }
        finishFaults(client, closeAfter: closeAfter)
        return bytes
    }

    /// Drops from the room's backlogs what every connection of their variant has, and bounds what a lagging one
    /// keeps there.
    func trimBacklog(_ room: Int64) {
        guard rooms[room] != nil else { return }
        let cap = configuration.maxQueuedBytesPerConnection
        modify(&rooms[room]!) { entry in
            var oldest = entry.backlog.head
            var oldestMasked = entry.maskedBacklog.head
            for member in entry.members where member.isSending {
                if member.seesMaskedNames {
                    oldestMasked = min(oldestMasked, member.broadcastCursor)
                } else {
                    oldest = min(oldest, member.broadcastCursor)
                }
            }
            entry.backlog.trim(oldestNeeded: oldest, maxBytes: cap)
            entry.maskedBacklog.trim(oldestNeeded: oldestMasked, maxBytes: cap)
        }
    }
}
