import XCTest

@testable import DanmuClient

/// Drives a `RoomStateMachine` with a manual clock: the single wake-up it asks for fires when time passes it.
private struct ManualRoom {
    var machine: RoomStateMachine
    var timing: RoomTiming
    var now: Int64 = 1_000_000_000_000
    var timer: Int64?
    var log: [RoomStateMachine.Action] = []

    init(room: Int64 = 1, resolution: Bool = false, timing: RoomTiming = ManualRoom.fastTiming) {
        machine = RoomStateMachine(room: room, resolutionEnabled: resolution, timing: timing)
        self.timing = timing
    }

    static var fastTiming: RoomTiming {
        var timing = RoomTiming()
        timing.backoff = BackoffPolicy(initial: .seconds(1), maximum: .seconds(8), jitter: 0)  // healthy after 2 s
        return timing
    }

    @discardableResult
    mutating func send(_ input: RoomStateMachine.Input) -> [RoomStateMachine.Action] {
        let actions = machine.handle(input, now: now, timing: timing)
        for action in actions {
            switch action {
            case .setTimer(let deadline): timer = deadline
            case .cancelTimer: timer = nil
            default: break
            }
        }
        log += actions
        return actions
    }

    /// Moves the clock forward, firing the wake-up each time it is due; `traffic` marks bytes received at
    /// every step of `step`.
    mutating func advance(by duration: Duration, traffic: Bool = false, step: Duration = .seconds(1)) {
        let end = now + duration.nanoseconds
        while now < end {
            let next = min(end, now + step.nanoseconds, timer ?? Int64.max)
            now = next
            if traffic { machine.bytesRead(now: now, frames: 1) }
            if let deadline = timer, deadline <= now {
                timer = nil
                send(.timer)
            }
        }
    }

    mutating func goLive(hosts: Int = 1) {
        send(.start)
        if machine.phase == .resolving { send(.resolved(hostCount: hosts)) }
        send(.connected)
        send(.authReply(code: 0))
    }

    /// The connect in flight fails (the peer refused it).
    mutating func refuseConnect() { send(.closed(.connectFailed("refused"))) }

    func count(_ action: RoomStateMachine.Action) -> Int { log.filter { $0 == action }.count }
}

final class RoomSessionStateMachineTests: XCTestCase {
    func testConnectAuthThenHeartbeatImmediatelyAndEveryPeriod() {
        var room = ManualRoom()
        XCTAssertEqual(room.send(.start).first, .connect(hostIndex: 0))
        XCTAssertEqual(room.machine.phase, .connecting)
        XCTAssertEqual(room.send(.connected).first, .sendAuth)
        XCTAssertEqual(room.machine.phase, .authenticating)
        XCTAssertEqual(room.send(.authReply(code: 0)).first, .sendHeartbeat)
        XCTAssertEqual(room.machine.phase, .live)
        room.advance(by: .seconds(301), traffic: true)
        // One right after auth, then one per 30 s: 10 or 11 depending on the room's phase offset.
        XCTAssertTrue((11...12).contains(room.count(.sendHeartbeat)), "\(room.count(.sendHeartbeat))")
        XCTAssertEqual(room.machine.phase, .live)
        XCTAssertEqual(room.count(.close), 0)
    }

    func testAuthTimeoutClosesBacksOffAndRefreshesToken() {
        var room = ManualRoom(resolution: true)
        XCTAssertEqual(room.send(.start), [.cancelTimer, .resolve(refresh: false)])
        room.send(.resolved(hostCount: 2))
        room.send(.connected)
        room.advance(by: .milliseconds(4_900))
        XCTAssertEqual(room.machine.phase, .authenticating)
        room.advance(by: .milliseconds(200))
        XCTAssertEqual(room.machine.phase, .backingOff)
        XCTAssertEqual(room.count(.close), 1)
        XCTAssertEqual(room.count(.failed(.authTimeout)), 1)
        room.log.removeAll()
        room.advance(by: .seconds(3))  // auth failures wait double: 2 s
        XCTAssertEqual(room.machine.phase, .resolving, "an auth failure re-fetches the token")
        XCTAssertEqual(room.log.suffix(2), [.reconnecting, .resolve(refresh: true)])
    }

    func testCloseBeforeAuthReplyIsAnAuthFailure() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolved(hostCount: 1))
        room.send(.connected)
        room.send(.closed(.closedBeforeAuth))
        XCTAssertEqual(room.machine.phase, .backingOff)
        room.advance(by: .seconds(3))
        XCTAssertEqual(room.machine.phase, .resolving)
    }

    func testRejectedAuthCodeClosesAndRefreshes() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolved(hostCount: 1))
        room.send(.connected)
        let actions = room.send(.authReply(code: -101))
        XCTAssertEqual(Array(actions.prefix(2)), [.close, .failed(.authRejected(code: -101))])
        room.advance(by: .seconds(3))
        XCTAssertEqual(room.machine.phase, .resolving)
    }

    func testWatchdogClosesSilentConnection() {
        var room = ManualRoom()
        room.goLive()
        room.advance(by: .seconds(69))
        XCTAssertEqual(room.machine.phase, .live)
        room.advance(by: .milliseconds(1_500))
        XCTAssertEqual(room.count(.failed(.watchdog)), 1)
        XCTAssertEqual(room.count(.close), 1)
        XCTAssertEqual(room.machine.phase, .backingOff)
    }

    func testWatchdogSparesConnectionWithTraffic() {
        var room = ManualRoom()
        room.goLive()
        room.advance(by: .seconds(600), traffic: true)
        XCTAssertEqual(room.machine.phase, .live)
        XCTAssertEqual(room.count(.close), 0)
    }

    /// Five hosts, so that "re-resolve after max(3, hosts) failures" differs from "after 3": every host is tried
    /// once before the token and host list are fetched again.
    func testConnectTimeoutRotatesHostsAndRefreshesAfterSeveralFailures() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolved(hostCount: 5))
        var hosts: [Int] = []
        for attempt in 0..<5 {
            guard room.machine.phase == .connecting, room.timer != nil else {
                XCTFail("attempt \(attempt): \(room.machine.phase) before every host was tried")
                break
            }
            if case .connect(let index)? = room.log.last(where: { if case .connect = $0 { true } else { false } }) {
                hosts.append(index)
            }
            room.log.removeAll()
            room.now = room.timer!
            room.send(.timer)  // connect timeout
            XCTAssertEqual(Array(room.log.prefix(2)), [.close, .failed(.connectTimeout)])
            XCTAssertEqual(room.machine.phase, .backingOff)
            room.now = room.timer!
            room.send(.timer)  // backoff over
        }
        XCTAssertEqual(hosts, [0, 1, 2, 3, 4], "each failure moves to the next host")
        XCTAssertEqual(room.machine.phase, .resolving, "max(3, 5) failed connects re-fetch token and hosts")
    }

    func testBackoffGrowsCapsAndResetsAfterHealthyPeriod() {
        var room = ManualRoom()
        room.send(.start)
        var delays: [Int64] = []
        for _ in 0..<6 {
            room.refuseConnect()
            delays.append(room.timer! - room.now)
            room.advance(by: .seconds(9))
            XCTAssertEqual(room.machine.phase, .connecting)
        }
        XCTAssertEqual(delays.map { $0 / 1_000_000_000 }, [1, 2, 4, 8, 8, 8])
        XCTAssertEqual(room.count(.reconnecting), 6)
        room.send(.connected)
        room.send(.authReply(code: 0))
        room.advance(by: .seconds(61), traffic: true)
        room.send(.closed(.closedByPeer))
        XCTAssertEqual(room.timer! - room.now, 1_000_000_000, "a healthy connection resets the backoff")
    }

    func testConnectionClosedJustAfterAuthDoesNotResetBackoff() {
        var room = ManualRoom()
        room.send(.start)
        room.refuseConnect()
        room.advance(by: .seconds(2))
        room.send(.connected)
        room.send(.authReply(code: 0))
        room.advance(by: .seconds(1), traffic: true)  // data, but live for less than healthyAfter (2 s)
        room.send(.closed(.closedByPeer))
        XCTAssertEqual(room.timer! - room.now, 2_000_000_000)
    }

    /// Issue 17, bug 6: a server that closes every connection after ~20 s of good traffic. Each close is followed
    /// by the first step, not a pause doubling up to the cap.
    func testChurnAfterGoodTrafficReconnectsAtTheFirstStep() {
        var room = ManualRoom()
        room.send(.start)
        var delays: [Int64] = []
        for _ in 0..<10 {
            room.send(.connected)
            room.send(.authReply(code: 0))
            room.advance(by: .seconds(20), traffic: true)
            room.send(.closed(.closedByPeer))
            delays.append(room.timer! - room.now)
            room.advance(by: .seconds(9))
            XCTAssertEqual(room.machine.phase, .connecting)
        }
        XCTAssertEqual(delays, Array(repeating: 1_000_000_000, count: 10))
        XCTAssertEqual(room.machine.consecutiveFailures, 1)
    }

    /// The jitter stays on the short step: rooms dropped together do not come back in the same instant.
    func testFirstStepAfterAGoodConnectionIsJitteredAndAtMostHalfASecond() {
        var delays = Set<Int64>()
        for id in 1...200 {
            var room = ManualRoom(room: Int64(id), timing: RoomTiming())
            room.goLive()
            room.advance(by: .seconds(20), traffic: true)
            room.send(.closed(.closedByPeer))
            let delay = room.timer! - room.now
            XCTAssertLessThanOrEqual(delay, 500_000_000)
            XCTAssertGreaterThanOrEqual(delay, 250_000_000)
            delays.insert(delay / 1_000_000)
        }
        XCTAssertGreaterThan(delays.count, 100, "\(delays.count) distinct milliseconds in [250, 500]")
    }

    /// The guard: a server that accepts, authenticates, sends one message and closes at once is not a good
    /// connection; the room backs off to the cap as if refused.
    func testTightLoopOfOneMessageConnectionsStillEscalates() {
        var room = ManualRoom()
        room.send(.start)
        var delays: [Int64] = []
        for _ in 0..<6 {
            room.send(.connected)
            room.send(.authReply(code: 0))
            room.now += 10_000_000
            room.machine.bytesRead(now: room.now, frames: 1)
            room.now += 10_000_000
            room.send(.closed(.closedByPeer))
            delays.append(room.timer! - room.now)
            room.advance(by: .seconds(9))
        }
        XCTAssertEqual(delays.map { $0 / 1_000_000_000 }, [1, 2, 4, 8, 8, 8])
    }

    /// Authenticated and live for long, but nothing after AUTH_REPLY (not even a heartbeat reply): escalates.
    func testLiveConnectionThatDeliveredNothingEscalates() {
        var room = ManualRoom()
        room.send(.start)
        var delays: [Int64] = []
        for _ in 0..<4 {
            room.send(.connected)
            room.send(.authReply(code: 0))
            room.advance(by: .seconds(30))
            room.send(.closed(.closedByPeer))
            delays.append(room.timer! - room.now)
            room.advance(by: .seconds(9))
        }
        XCTAssertEqual(delays.map { $0 / 1_000_000_000 }, [1, 2, 4, 8])
    }

    /// Messages that arrive in the same read as AUTH_REPLY count as delivered (the session reports the read after
    /// feeding the reply).
    func testFramesReadWithTheAuthReplyCountAsDelivered() {
        var room = ManualRoom()
        room.send(.start)
        room.refuseConnect()
        room.advance(by: .seconds(2))
        room.send(.connected)
        room.send(.authReply(code: 0))
        room.machine.bytesRead(now: room.now, frames: 3)
        room.now += Duration.seconds(3).nanoseconds  // no further reads, no timer due yet
        room.send(.closed(.closedByPeer))
        XCTAssertEqual(room.timer! - room.now, 1_000_000_000)
    }

    func testProtocolErrorClosesAndReconnects() {
        var room = ManualRoom()
        room.goLive()
        let actions = room.send(.protocolError("absurd length"))
        XCTAssertEqual(Array(actions.prefix(2)), [.close, .failed(.protocolError("absurd length"))])
        room.advance(by: .seconds(2))
        XCTAssertEqual(room.machine.phase, .connecting)
        XCTAssertEqual(room.count(.reconnecting), 1)
    }

    func testRemoveClosesAndIgnoresEverythingAfter() {
        var room = ManualRoom()
        room.goLive()
        XCTAssertEqual(room.send(.remove), [.close, .cancelTimer])
        XCTAssertEqual(room.machine.phase, .removed)
        XCTAssertEqual(room.send(.closed(.closedByPeer)), [])
        XCTAssertEqual(room.send(.timer), [])
        XCTAssertEqual(room.send(.resolved(hostCount: 1)), [])
    }

    func testRemoveWhileBackingOffDoesNotClose() {
        var room = ManualRoom()
        room.send(.start)
        room.refuseConnect()
        XCTAssertEqual(room.send(.remove), [.cancelTimer])
    }

    func testPermanentResolveFailureGivesUp() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolveFailed("room 0 does not exist", permanent: true))
        XCTAssertEqual(room.machine.phase, .givenUp)
        XCTAssertNil(room.timer)
        XCTAssertEqual(room.send(.timer), [])
    }

    func testTransientResolveFailureRetries() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolveFailed("HTTP 412", permanent: false))
        XCTAssertEqual(room.machine.phase, .backingOff)
        room.advance(by: .seconds(2))
        XCTAssertEqual(room.machine.phase, .resolving)
    }

    func testGivesUpAfterConfiguredFailures() {
        var timing = ManualRoom.fastTiming
        timing.giveUpAfterFailures = 3
        var room = ManualRoom(timing: timing)
        room.send(.start)
        for _ in 0..<3 {
            room.refuseConnect()
            room.advance(by: .seconds(9))
        }
        XCTAssertEqual(room.machine.phase, .givenUp)
        XCTAssertEqual(room.count(.reconnecting), 2)
    }

    func testLoopStallSendsOneHeartbeatNotABurst() {
        var room = ManualRoom()
        room.goLive()
        room.log.removeAll()
        room.now += Duration.seconds(65).nanoseconds  // the loop was stuck; bytes were waiting
        room.machine.bytesRead(now: room.now, frames: 1)
        room.send(.timer)
        XCTAssertEqual(room.count(.sendHeartbeat), 1)
        XCTAssertGreaterThanOrEqual(room.timer! - room.now, 1)
    }

    func testFirstPeriodicHeartbeatsSpreadOverThePeriod() {
        // 1,000 rooms authenticated in the same instant: their second beats fill all ten 3-second buckets.
        var buckets = [Int](repeating: 0, count: 10)
        for id in 1...1_000 {
            var room = ManualRoom(room: Int64(id))
            room.goLive()
            let offset = room.timer! - room.now
            XCTAssertGreaterThan(offset, 0)
            XCTAssertLessThanOrEqual(offset, 30_000_000_000)
            buckets[Int(min(9, offset / 3_000_000_000))] += 1
        }
        XCTAssertTrue(buckets.allSatisfy { $0 >= 60 }, "\(buckets)")
    }

    /// Issue 17, bug 4: a paused socket's unread AUTH_REPLY is not the server's silence.
    func testPausedWhileAuthenticatingIsNotAnAuthTimeout() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolved(hostCount: 1))
        room.send(.connected)
        room.advance(by: .seconds(2))
        XCTAssertEqual(room.send(.readingPaused), [.cancelTimer])
        room.advance(by: .seconds(60))  // twelve auth timeouts
        XCTAssertEqual(room.machine.phase, .authenticating)
        XCTAssertEqual(room.count(.failed(.authTimeout)), 0)
        XCTAssertEqual(room.count(.close), 0)
        // After the resume the timeout counts again, from the resume (not the 3 s that were left).
        room.send(.readingResumed)
        room.advance(by: .milliseconds(4_900))
        XCTAssertEqual(room.machine.phase, .authenticating)
        room.advance(by: .milliseconds(200))
        XCTAssertEqual(room.count(.failed(.authTimeout)), 1)
        XCTAssertEqual(room.machine.phase, .backingOff)
    }

    func testPausedAuthenticatingRoomGoesLiveWhenTheReplyIsRead() {
        var room = ManualRoom()
        room.send(.start)
        room.send(.connected)
        room.send(.readingPaused)
        room.advance(by: .seconds(30))
        room.send(.readingResumed)
        room.send(.authReply(code: 0))
        XCTAssertEqual(room.machine.phase, .live)
        XCTAssertEqual(room.machine.consecutiveFailures, 0)
    }

    /// The watchdog is quiet while our own backpressure keeps the socket unread, heartbeats go on (the server
    /// keeps the connection), and after the resume the watchdog bites again on real silence.
    func testWatchdogQuietWhilePausedAndWorksAgainAfterResume() {
        var room = ManualRoom()
        room.goLive()
        room.advance(by: .seconds(10), traffic: true)
        room.send(.readingPaused)
        let beatsBefore = room.count(.sendHeartbeat)
        room.advance(by: .seconds(300))  // no traffic: we are not reading
        XCTAssertEqual(room.machine.phase, .live)
        XCTAssertEqual(room.count(.failed(.watchdog)), 0)
        XCTAssertGreaterThanOrEqual(room.count(.sendHeartbeat) - beatsBefore, 9, "heartbeats stop while paused")
        room.send(.readingResumed)
        room.advance(by: .seconds(69))
        XCTAssertEqual(room.machine.phase, .live, "the watchdog counts from the resume")
        room.advance(by: .milliseconds(1_500))
        XCTAssertEqual(room.count(.failed(.watchdog)), 1)
        XCTAssertEqual(room.machine.phase, .backingOff)
    }

    func testNewConnectionAfterAPausedOneIsJudgedAgain() {
        var room = ManualRoom()
        room.goLive()
        room.send(.readingPaused)
        room.send(.closed(.closedByPeer))
        room.advance(by: .seconds(2))
        XCTAssertEqual(room.machine.phase, .connecting)
        XCTAssertFalse(room.machine.isReadingPaused)
        room.send(.connected)
        room.advance(by: .milliseconds(5_100))
        XCTAssertEqual(room.count(.failed(.authTimeout)), 1)
    }

    func testLateAuthReplyAfterTimeoutIsIgnored() {
        var room = ManualRoom()
        room.send(.start)
        room.send(.connected)
        room.advance(by: .seconds(6))
        XCTAssertEqual(room.machine.phase, .backingOff)
        XCTAssertEqual(room.send(.authReply(code: 0)), [])
        XCTAssertEqual(room.machine.phase, .backingOff)
    }
}

/// ws and wss: the socket connects, then the TLS handshake and the upgrade run before `.connected`.
final class TransportHandshakeStateMachineTests: XCTestCase {
    func testStalledHandshakeIsJudgedByTheHandshakeTimeoutNamingTheStage() {
        var timing = ManualRoom.fastTiming
        timing.connectTimeout = .seconds(10)
        timing.handshakeTimeout = .seconds(4)
        var room = ManualRoom(resolution: true, timing: timing)
        room.send(.start)
        room.send(.resolved(hostCount: 1))
        room.advance(by: .seconds(1))
        // The socket connected: the connect deadline (9 s away) is replaced by the handshake's (4 s).
        let armed = room.send(.handshaking(stage: "TLS handshake"))
        XCTAssertEqual(armed, [.setTimer(deadline: room.now + Duration.seconds(4).nanoseconds)])
        room.advance(by: .seconds(2))
        // The next stage renames the wait without extending it.
        XCTAssertEqual(room.send(.handshaking(stage: "WebSocket upgrade")), [])
        XCTAssertEqual(room.machine.phase, .connecting)
        room.advance(by: .seconds(2))
        XCTAssertEqual(room.machine.phase, .backingOff)
        XCTAssertEqual(room.count(.failed(.handshakeTimeout("WebSocket upgrade"))), 1)
        XCTAssertEqual(room.count(.close), 1)
        XCTAssertEqual(room.count(.sendAuth), 0)
        // Not an auth failure: the next attempt connects again without re-resolving.
        room.advance(by: .seconds(3))
        XCTAssertEqual(room.log.filter { $0 == .resolve(refresh: true) }.count, 0)
        XCTAssertEqual(room.machine.phase, .connecting)
    }

    func testReadyTransportAuthenticatesAndTheNextConnectionStartsWithoutAStage() {
        var timing = ManualRoom.fastTiming
        timing.handshakeTimeout = .seconds(4)
        timing.connectTimeout = .seconds(10)
        var room = ManualRoom(timing: timing)
        room.send(.start)
        room.send(.handshaking(stage: "WebSocket upgrade"))
        XCTAssertEqual(room.send(.connected).first, .sendAuth)
        room.send(.closed(.closedBeforeAuth))
        room.advance(by: .seconds(3))
        XCTAssertEqual(room.machine.phase, .connecting)
        // A TCP connect that never completes is a connect timeout, not a stale handshake stage.
        room.advance(by: .seconds(10))
        XCTAssertEqual(room.count(.failed(.connectTimeout)), 1)
        XCTAssertEqual(room.count(.failed(.handshakeTimeout("WebSocket upgrade"))), 0)
    }

    func testAutoMovesToWSSAfterTheConfiguredFailuresBeforeLiveAndStays() {
        var choice = TransportChoice(.auto, fallbackAfter: 2)
        XCTAssertEqual(choice.current, .tcp)
        XCTAssertFalse(choice.attemptFailedBeforeLive())
        choice.wentLive()  // a success in between: the count starts over
        XCTAssertFalse(choice.attemptFailedBeforeLive())
        XCTAssertEqual(choice.current, .tcp)
        XCTAssertTrue(choice.attemptFailedBeforeLive())
        XCTAssertEqual(choice.current, .wss)
        XCTAssertFalse(choice.attemptFailedBeforeLive())
        choice.wentLive()
        XCTAssertEqual(choice.current, .wss, "sticky")
        var fixed = TransportChoice(.ws, fallbackAfter: 1)
        XCTAssertFalse(fixed.attemptFailedBeforeLive())
        XCTAssertEqual(fixed.current, .ws)
    }
}
