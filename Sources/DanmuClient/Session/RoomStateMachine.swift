import EventLoop

/// Where a room is in its life (ARCHITECTURE.md "Room life").
public enum RoomPhase: String, Sendable, CaseIterable {
    /// Added, not started yet.
    case idle
    /// Waiting for the resolver (token + host list) on the resolver thread.
    case resolving
    /// TCP connect in flight, then (ws, wss) the TLS handshake and the WebSocket upgrade.
    case connecting
    /// AUTH (op 7) sent, waiting for AUTH_REPLY (op 8).
    case authenticating
    /// Authenticated: heartbeats run, messages flow.
    case live
    /// Waiting before the next attempt.
    case backingOff = "backoff"
    /// Stopped trying (permanent resolve failure or the failure limit was reached).
    case givenUp = "given-up"
    /// Removed by the user.
    case removed
}

/// Why a room's connection attempt or connection ended; the `lastError` of the room's statistics.
public enum RoomFailure: Sendable, Equatable, CustomStringConvertible {
    case resolveFailed(String)
    case connectFailed(String)
    case connectTimeout
    /// The socket connected but the TLS handshake or the WebSocket upgrade (the stage named) did not finish
    /// within `RoomTiming.handshakeTimeout`: a server that stalls mid-handshake.
    case handshakeTimeout(String)
    /// The WebSocket or TLS layer refused what the server sent (bad status line, wrong accept key, masked
    /// frame, oversize, bad close, certificate rejected …): `TransportError`'s description.
    case transportFailed(String)
    case authTimeout
    case authRejected(code: Int)
    case closedBeforeAuth
    case closedByPeer
    /// The server closed the open WebSocket with a close frame (RFC 6455 §5.5.1): its status code (nil: the
    /// frame carried none) and reason, and whether that came before AUTH_REPLY (then an auth failure, like
    /// `closedBeforeAuth`). A close during the upgrade is a `transportFailed`.
    case webSocketClosed(code: UInt16?, reason: String, beforeAuth: Bool)
    case connectionError(String)
    case watchdog
    /// The bytes received were not valid protocol (`ProtocolError`'s description). `beforeAuth`: it came before
    /// AUTH_REPLY (say an `HTTP/1.1 403` answer to the AUTH), so it is an auth failure too (issue 16).
    case protocolError(String, beforeAuth: Bool = false)

    public var description: String {
        switch self {
        case .resolveFailed(let why): return "resolve failed: \(why)"
        case .connectFailed(let why): return "connect failed: \(why)"
        case .connectTimeout: return "connect timed out"
        case .handshakeTimeout(let stage): return "\(stage) timed out"
        case .transportFailed(let why): return "transport error: \(why)"
        case .authTimeout: return "no AUTH_REPLY (op 8) in time"
        case .authRejected(let code): return "AUTH_REPLY code \(code)"
        case .closedBeforeAuth: return "closed by the server before AUTH_REPLY"
        case .closedByPeer: return "closed by the server"
        case .webSocketClosed(let code, let reason, let beforeAuth):
            // "server closed the WebSocket: 1008 policy violation "too many connections" before AUTH_REPLY"
            var text = "server closed the WebSocket: "
            if let code {
                text += "\(code)" + (WebSocketCloseCode(code).meaning.map { " " + $0 } ?? "")
            } else {
                text += "no status code"
            }
            if !reason.isEmpty { text += " " + quoted(reason) }
            return text + (beforeAuth ? " before AUTH_REPLY" : "")
        case .connectionError(let why): return "connection error: \(why)"
        case .watchdog: return "silent too long (watchdog)"
        case .protocolError(let why, let beforeAuth):
            return beforeAuth ? "protocol error before AUTH_REPLY: \(why)" : "protocol error: \(why)"
        }
    }

    /// Failures that mean "the token (or its server) is not accepted": re-resolve before the next try.
    var isAuthFailure: Bool {
        switch self {
        case .authTimeout, .authRejected, .closedBeforeAuth: return true
        case .webSocketClosed(_, _, let beforeAuth), .protocolError(_, let beforeAuth): return beforeAuth
        default: return false
        }
    }
}

/// Timing and retry rules shared by all rooms of a collector (one instance, never copied per room).
public struct RoomTiming: Sendable, Equatable {
    public var connectTimeout: Duration = .seconds(10)
    /// ws, wss: from the TCP connect to the WebSocket upgrade's 101 (TLS handshake included).
    public var handshakeTimeout: Duration = .seconds(10)
    /// The server wants AUTH within ~5 s and answers within it (docs/protocol.md §7).
    public var authTimeout: Duration = .seconds(5)
    /// docs/protocol.md §8: every 30 s; the server drops a socket after ~60–70 s without one.
    public var heartbeatInterval: Duration = .seconds(30)
    /// A live connection that received nothing for this long is closed and reconnected.
    public var watchdogTimeout: Duration = .seconds(70)
    public var backoff = BackoffPolicy()
    /// Re-resolve (fresh token, host list) after this many consecutive failed attempts
    /// (docs/protocol.md §16: BDM uses max(3, hosts), BLG 5); the host count is taken into account too.
    public var refreshAfterFailures = 3
    /// Give up after this many consecutive failures; nil: never.
    public var giveUpAfterFailures: Int? = nil
    /// How late a live room's timer (its next heartbeat, its watchdog) may fire: deadlines are aligned to this
    /// grid so that the rooms due in the same interval share one loop wake-up (10,000 idle rooms: one a second
    /// instead of ~333). Capped at 1/16 of the heartbeat interval and of the watchdog timeout (`liveLeeway`), so
    /// short test timings keep their precision. Zero: every timer fires at its own millisecond.
    public var liveTimerLeeway: Duration = .seconds(1)

    public init() {}

    /// The leeway actually used: `liveTimerLeeway`, at most 1/16 of the heartbeat interval and the watchdog.
    public var liveLeeway: Duration {
        min(liveTimerLeeway, heartbeatInterval / 16, watchdogTimeout / 16)
    }
}

/// The pure decision core of one room: inputs (with the current monotonic time) in, actions out.
///
/// No sockets, no timers, no clock of its own: `RoomSession` feeds it what the reactor reports and carries out
/// what it returns, so every rule here is testable with a manual clock. It owns a single wake-up deadline
/// (`setTimer`), which covers the connect timeout, the auth timeout, the backoff pause, heartbeats and the
/// watchdog; the watchdog is checked when that timer fires, so a read costs no timer update.
struct RoomStateMachine {
    enum Input: Equatable {
        /// Begin (from idle).
        case start
        /// The resolver produced a host list (and token) with this many hosts.
        case resolved(hostCount: Int)
        /// The resolver failed; `permanent` (e.g. no such room) gives up.
        case resolveFailed(String, permanent: Bool)
        /// The socket connected and the transport under the packets is starting its handshake (ws, wss); `stage`
        /// names what is awaited ("TLS handshake", "WebSocket upgrade") for the timeout's reason. The first one
        /// arms `handshakeTimeout`; later ones only rename the stage.
        case handshaking(stage: String)
        /// The transport is ready for packets (TCP: the connect completed; ws/wss: the upgrade's 101).
        case connected
        /// AUTH_REPLY arrived with this code.
        case authReply(code: Int)
        /// The connection closed without us asking.
        case closed(RoomFailure)
        /// The bytes received were not valid protocol: close and reconnect.
        case protocolError(String)
        /// The session stopped reading the connection (backpressure: room queue or event stream full). From now on
        /// the server's silence is ours: the auth timeout and the watchdog are suspended until `.readingResumed`.
        case readingPaused
        /// The session reads the connection again; the auth timeout or the watchdog starts afresh from now.
        case readingResumed
        /// The wake-up deadline passed.
        case timer
        /// The user removed the room.
        case remove
    }

    enum Action: Equatable {
        /// Fetch token and hosts; `refresh`: the previous token failed, do not use a cached one.
        case resolve(refresh: Bool)
        case connect(hostIndex: Int)
        case sendAuth
        case sendHeartbeat
        /// Close the current connection; its later close report is not an input.
        case close
        /// Arm the single wake-up at this monotonic time (ns), replacing any armed one.
        case setTimer(deadline: Int64)
        case cancelTimer
        /// A failure to record as the room's last error (the state machine already reacted to it).
        case failed(RoomFailure)
        /// A new connection attempt after a failure (the statistics' reconnect counter).
        case reconnecting
    }

    private(set) var phase: RoomPhase = .idle
    /// Monotonic time (ns) of the last byte received (`bytesRead`), or of the resume after a pause.
    private(set) var lastActivity: Int64 = 0
    private(set) var hostIndex = 0
    private(set) var hostCount = 1
    private var backoff: Backoff
    private var deadline: Int64 = 0
    private var nextHeartbeat: Int64 = 0
    private var liveSince: Int64 = 0
    /// The live connection received a frame after its AUTH_REPLY (a message or a heartbeat reply).
    private var deliveredSinceLive = false
    /// The current connection is not being read (backpressure): nothing it does not say may be held against it.
    private(set) var isReadingPaused = false
    /// What the current connection's transport handshake is waiting for; nil before the socket connects (and
    /// for TCP, which has none).
    private var handshakeStage: String?
    private var failuresSinceResolve = 0
    private var mustRefresh = false
    private var hasEndpoint = false
    private let heartbeatOffset: Int64
    private let resolutionEnabled: Bool

    /// - Parameters:
    ///   - room: the room id; it seeds the jitter and spreads the heartbeat phase.
    ///   - resolutionEnabled: false when the server is fixed (override): never emits `.resolve`.
    init(room: Int64, resolutionEnabled: Bool, timing: RoomTiming) {
        let hash = SplitMix64(seed: UInt64(bitPattern: room)).hashed
        backoff = Backoff(seed: hash)
        let period = UInt64(max(1, timing.heartbeatInterval.nanoseconds))
        heartbeatOffset = Int64((hash >> 1) % period) + 1
        self.resolutionEnabled = resolutionEnabled
    }

    var consecutiveFailures: Int { backoff.failures }

    /// Bytes arrived on the current connection: `frames` complete frames besides its AUTH_REPLY. No actions, so a
    /// read costs no timer update (the watchdog is checked when the timer fires). Call it after feeding the
    /// read's `.authReply`, so that frames in the same read as the reply count as delivered.
    mutating func bytesRead(now: Int64, frames: Int) {
        lastActivity = now
        if frames > 0 && phase == .live { deliveredSinceLive = true }
    }

    mutating func handle(_ input: Input, now: Int64, timing: RoomTiming) -> [Action] {
        switch (phase, input) {
        case (.removed, _), (.givenUp, .start), (.givenUp, .timer):
            return []
        case (_, .remove):
            let wasConnected = phase == .connecting || phase == .authenticating || phase == .live
            phase = .removed
            return wasConnected ? [.close, .cancelTimer] : [.cancelTimer]
        case (.idle, .start):
            return beginAttempt(now: now, timing: timing, isRetry: false)
        case (.resolving, .resolved(let count)):
            hostCount = max(1, count)
            hostIndex = 0
            hasEndpoint = true
            failuresSinceResolve = 0
            mustRefresh = false
            return connect(now: now, timing: timing)
        case (.resolving, .resolveFailed(let why, let permanent)):
            if permanent {
                phase = .givenUp
                return [.cancelTimer, .failed(.resolveFailed(why))]
            }
            return fail(.resolveFailed(why), now: now, timing: timing, closeConnection: false)
        case (.connecting, .handshaking(let stage)):
            defer { handshakeStage = stage }
            return handshakeStage == nil ? [arm(now + timing.handshakeTimeout.nanoseconds)] : []
        case (.connecting, .connected):
            handshakeStage = nil
            phase = .authenticating
            lastActivity = now
            return [.sendAuth, arm(now + timing.authTimeout.nanoseconds)]
        case (.authenticating, .authReply(let code)):
            guard code == 0 else {
                return fail(.authRejected(code: code), now: now, timing: timing, closeConnection: true)
            }
            phase = .live
            liveSince = now
            deliveredSinceLive = false
            failuresSinceResolve = 0
            lastActivity = now
            // docs/protocol.md §8: one heartbeat right after AUTH_REPLY; the periodic ones start at a phase derived
            // from the room id so that rooms authenticated together do not beat together forever.
            nextHeartbeat = now + heartbeatOffset
            return [.sendHeartbeat, arm(liveDeadline(timing: timing))]
        case (.connecting, .closed(let why)), (.authenticating, .closed(let why)), (.live, .closed(let why)):
            return fail(why, now: now, timing: timing, closeConnection: false)
        case (.connecting, .protocolError(let why)), (.authenticating, .protocolError(let why)):
            // Issue 16: what the server sends instead of AUTH_REPLY (an HTTP 403, garbage) says the AUTH was not
            // accepted: counted as an auth failure, with a fresh token next time and the longer backoff.
            return fail(.protocolError(why, beforeAuth: true), now: now, timing: timing, closeConnection: true)
        case (.live, .protocolError(let why)):
            return fail(.protocolError(why), now: now, timing: timing, closeConnection: true)
        case (.authenticating, .readingPaused), (.live, .readingPaused):
            guard !isReadingPaused else { return [] }
            isReadingPaused = true
            // Issue 17, bug 4: a paused socket's AUTH_REPLY stays unread, so the auth timeout fired and the room was
            // recorded as an auth failure (token refresh, doubled backoff, possibly give-up). While paused there is
            // no auth deadline; a live room keeps its heartbeats (the server keeps the socket) but no watchdog.
            return phase == .authenticating ? [.cancelTimer] : [arm(liveDeadline(timing: timing))]
        case (.authenticating, .readingResumed), (.live, .readingResumed):
            guard isReadingPaused else { return [] }
            isReadingPaused = false
            // Fresh, not the remainder: the bytes the server sent while we were not reading are still unread.
            lastActivity = now
            if phase == .authenticating { return [arm(now + timing.authTimeout.nanoseconds)] }
            return [arm(liveDeadline(timing: timing))]
        case (_, .timer):
            return timerFired(now: now, timing: timing)
        default:
            // Late reports of an already-abandoned attempt (e.g. a resolution that finished after a removal).
            return []
        }
    }

    private mutating func timerFired(now: Int64, timing: RoomTiming) -> [Action] {
        switch phase {
        case .connecting where now >= deadline:
            let failure = handshakeStage.map(RoomFailure.handshakeTimeout) ?? .connectTimeout
            return fail(failure, now: now, timing: timing, closeConnection: true)
        case .authenticating where now >= deadline:
            return fail(.authTimeout, now: now, timing: timing, closeConnection: true)
        case .backingOff where now >= deadline:
            return beginAttempt(now: now, timing: timing, isRetry: true)
        case .live:
            if !isReadingPaused && now - lastActivity >= timing.watchdogTimeout.nanoseconds {
                return fail(.watchdog, now: now, timing: timing, closeConnection: true)
            }
            var actions: [Action] = []
            if now >= nextHeartbeat {
                actions.append(.sendHeartbeat)
                let period = timing.heartbeatInterval.nanoseconds
                nextHeartbeat += period
                // After a stall of the loop do not send a burst of missed beats: one now, the next a period later.
                if nextHeartbeat <= now { nextHeartbeat = now + period }
            }
            actions.append(arm(liveDeadline(timing: timing)))
            return actions
        case .connecting, .authenticating, .backingOff:
            return [arm(deadline)]  // early wake-up: keep waiting for the real deadline
        case .idle, .resolving, .givenUp, .removed:
            return []
        }
    }

    /// The live wake-up: the next heartbeat or the moment the watchdog would bite, whichever is first (only the
    /// heartbeat while reading is paused).
    private func liveDeadline(timing: RoomTiming) -> Int64 {
        isReadingPaused ? nextHeartbeat : min(nextHeartbeat, lastActivity + timing.watchdogTimeout.nanoseconds)
    }

    private mutating func arm(_ at: Int64) -> Action {
        deadline = at
        return .setTimer(deadline: at)
    }

    private mutating func beginAttempt(now: Int64, timing: RoomTiming, isRetry: Bool) -> [Action] {
        let refreshLimit = max(timing.refreshAfterFailures, hostCount)
        if resolutionEnabled && (!hasEndpoint || mustRefresh || failuresSinceResolve >= refreshLimit) {
            phase = .resolving
            let resolve = Action.resolve(refresh: hasEndpoint)
            return isRetry ? [.cancelTimer, .reconnecting, resolve] : [.cancelTimer, resolve]
        }
        if isRetry {
            return [.reconnecting] + connect(now: now, timing: timing)
        }
        return connect(now: now, timing: timing)
    }

    private mutating func connect(now: Int64, timing: RoomTiming) -> [Action] {
        phase = .connecting
        handshakeStage = nil
        isReadingPaused = false  // a new connection starts being read
        return [.connect(hostIndex: hostIndex), arm(now + timing.connectTimeout.nanoseconds)]
    }

    /// Every failure path: record, close if we still hold a connection, rotate hosts, back off (or give up).
    private mutating func fail(_ failure: RoomFailure, now: Int64, timing: RoomTiming, closeConnection: Bool)
        -> [Action]
    {
        var actions: [Action] = closeConnection ? [.close, .failed(failure)] : [.failed(failure)]
        isReadingPaused = false
        handshakeStage = nil
        // Issue 17, bug 6: only a connection live for 60 s used to count as healthy, so a server that closes every
        // connection after ~20 s of good traffic drove each room's pause to the 60 s cap (46 % of the danmaku
        // received). Now a connection that authenticated, delivered data and outlived `healthyAfter` does not
        // escalate: the count starts over and the pause is the first, jittered step. Everything else escalates:
        // connect and auth failures, and a close just after auth or with nothing received after AUTH_REPLY, which
        // keeps a server that accepts, authenticates and drops us at once from being hammered in a tight loop.
        if phase == .live && deliveredSinceLive && now - liveSince >= timing.backoff.healthyAfter.nanoseconds {
            backoff.reset()
        }
        if failure.isAuthFailure {
            mustRefresh = true
        }
        failuresSinceResolve += 1
        hostIndex = (hostIndex + 1) % hostCount
        // A rejected or unanswered AUTH waits longer: hammering with a bad token invites risk control.
        let delay = backoff.nextDelay(policy: timing.backoff, weight: failure.isAuthFailure ? 2 : 1)
        if let limit = timing.giveUpAfterFailures, backoff.failures >= limit {
            phase = .givenUp
            actions.append(.cancelTimer)
            return actions
        }
        phase = .backingOff
        actions.append(arm(now + delay))
        return actions
    }
}

extension SplitMix64 {
    /// One output of a fresh generator: a well-mixed hash of the seed.
    fileprivate var hashed: UInt64 {
        var copy = self
        return copy.next()
    }
}
