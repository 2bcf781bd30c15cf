import EventLoop

/// The worker-side half of a room: decodes the frames the IO thread queued and calls the handler.
///
/// Confined to the room's `SerialQueue`: its jobs run in order and never two at once, which is what lets
/// this class keep the room's `MessageDecoder` without a lock (hence `@unchecked Sendable`).
final class RoomPipeline: @unchecked Sendable {
    let room: Int64
    let counters: RoomCounters
    private let core: CollectorCore
    private var decoder = MessageDecoder()

    init(room: Int64, counters: RoomCounters, core: CollectorCore) {
        self.room = room
        self.counters = counters
        self.core = core
    }

    /// One queued job: the packets of one read of connection number `connection`, decoded in place.
    /// `stamps` (loop wake-up and queueing times) is set only when `Configuration.onBatchTimings` is.
    func process(
        _ frames: FrameBatch, receivedAt: Int64, connection: UInt32,
        stamps: (loopWokeAt: UInt64, queuedAt: UInt64)? = nil
    ) {
        let startedAt = stamps == nil ? 0 : SystemClock.monotonicNanoseconds()
        var decoded: [DanmuEvent] = []
        var failure: ProtocolError?
        let malformedBefore = decoder.statistics.malformedMessages
        do throws(ProtocolError) {
            try decoder.decode(frames, into: &decoded)
        } catch {
            // Events decoded before the bad spot are delivered; the rest of this read is lost with the
            // connection, which the loop now closes and reconnects.
            failure = error
        }
        if !decoded.isEmpty {
            var timings = stamps.map {
                BatchTimings(
                    room: room, loopWokeAt: $0.loopWokeAt, queuedAt: $0.queuedAt, startedAt: startedAt,
                    decodedAt: SystemClock.monotonicNanoseconds(), handlerCalledAt: 0, handlerReturnedAt: 0)
            }
            let events = deliver(decoded, receivedAt: receivedAt, timings: &timings)
            if let timings, let report = core.configuration.onBatchTimings { report(timings, events) }
        }
        let malformed = decoder.statistics.malformedMessages - malformedBefore
        if malformed > 0 { counters.update { $0.malformedMessages += malformed } }
        if let failure { core.reportProtocolError(room: room, connection: connection, failure) }
    }

    /// Hands the batch to the handler and the stream; stamps `timings` around the handler call when given.
    private func deliver(_ decoded: [DanmuEvent], receivedAt: Int64, timings: inout BatchTimings?) -> [RoomEvent] {
        let handler = core.currentHandler
        let stream = core.currentStream
        var kinds: [(EventKind, Int)] = []
        var masked = false
        var events: [RoomEvent] = []
        events.reserveCapacity(decoded.count)
        for event in decoded {
            events.append(RoomEvent(room: room, receivedAt: receivedAt, event: event))
            let kind = event.kind
            if let index = kinds.firstIndex(where: { $0.0 == kind }) {
                kinds[index].1 += 1
            } else {
                kinds.append((kind, 1))
            }
            if !masked { masked = event.revealsMaskedMode }
        }
        // One call per read: a handler formats the batch into one buffer and takes its lock once.
        if timings != nil { timings!.handlerCalledAt = SystemClock.monotonicNanoseconds() }
        handler.handle(batch: events)
        if timings != nil { timings!.handlerReturnedAt = SystemClock.monotonicNanoseconds() }
        stream?.push(events)
        counters.update { statistics in
            for (kind, count) in kinds { statistics.eventsByKind[kind, default: 0] += count }
            if masked { statistics.maskedModeSeen = true }
        }
        return events
    }
}

extension DanmuEvent {
    /// Guest mode (docs/protocol.md §7): the server announced it (LOG_IN_NOTICE) or a name arrived masked.
    var revealsMaskedMode: Bool {
        switch self {
        case .loginNotice: return true
        case .danmaku(let danmaku): return danmaku.isNameMasked
        default: return false
        }
    }
}
