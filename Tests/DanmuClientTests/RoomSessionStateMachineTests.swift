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
        timing.backoff = BackoffPolicy(initial: .seconds(1), maximum: .seconds(8), jitter: 0, healthyAfter: .seconds(60))
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
            if traffic { machine.lastActivity = now }
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

    func testConnectTimeoutRotatesHostsAndRefreshesAfterSeveralFailures() {
        var room = ManualRoom(resolution: true)
        room.send(.start)
        room.send(.resolved(hostCount: 3))
        var hosts: [Int] = []
        for _ in 0..<3 {
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
        XCTAssertEqual(hosts, [0, 1, 2], "each failure moves to the next host")
        XCTAssertEqual(room.machine.phase, .resolving, "three failed connects re-fetch token and hosts")
    }

    func testBackoffGrowsCapsAndResetsAfterHealthyPeriod() {
        var room = ManualRoom()
        room.send(.start)
        var delays: [Int64] = []
        for _ in 0..<6 {
            room.send(.closed(.connectFailed("refused")))
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

    func testShortLivedConnectionDoesNotResetBackoff() {
        var room = ManualRoom()
        room.send(.start)
        room.send(.closed(.connectFailed("refused")))
        room.advance(by: .seconds(2))
        room.send(.connected)
        room.send(.authReply(code: 0))
        room.advance(by: .seconds(5), traffic: true)
        room.send(.closed(.closedByPeer))
        XCTAssertEqual(room.timer! - room.now, 2_000_000_000)
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
        room.send(.closed(.connectFailed("refused")))
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
            room.send(.closed(.connectFailed("refused")))
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
        room.machine.lastActivity = room.now
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
