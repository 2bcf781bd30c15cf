import XCTest

@testable import DanmuClient

final class BackoffTests: XCTestCase {
    private let policy = BackoffPolicy(
        initial: .milliseconds(100), maximum: .seconds(5), multiplier: 2, jitter: 0.5, healthyAfter: .seconds(10))

    func testDelaysGrowExponentiallyWithinJitterBounds() {
        var backoff = Backoff(seed: 42)
        for failure in 1...6 {
            let nominal = Int64(100_000_000) << (failure - 1)
            let delay = backoff.nextDelay(policy: policy)
            XCTAssertLessThanOrEqual(delay, nominal, "failure \(failure)")
            XCTAssertGreaterThanOrEqual(delay, nominal / 2, "failure \(failure)")
        }
        XCTAssertEqual(backoff.failures, 6)
    }

    func testDelayIsCappedEvenAfterThousandsOfFailures() {
        var backoff = Backoff(seed: 7)
        var last: Int64 = 0
        for _ in 0..<5_000 { last = backoff.nextDelay(policy: policy) }
        XCTAssertLessThanOrEqual(last, 5_000_000_000)
        XCTAssertGreaterThanOrEqual(last, 2_500_000_000)
    }

    func testResetStartsOverAtInitialDelay() {
        var backoff = Backoff(seed: 1)
        for _ in 0..<10 { _ = backoff.nextDelay(policy: policy) }
        backoff.reset()
        XCTAssertEqual(backoff.failures, 0)
        XCTAssertLessThanOrEqual(backoff.nextDelay(policy: policy), 100_000_000)
    }

    /// Issue 17, bug 6: after a good connection (counter reset) the default policy waits the first step, 250-500 ms,
    /// and a connection counts as good after 2 s, not a minute.
    func testDefaultPolicyReconnectsWithinHalfASecondAfterAGoodConnection() {
        let defaults = BackoffPolicy()
        XCTAssertEqual(defaults.healthyAfter, .seconds(2))
        for seed in 0..<100 as Range<UInt64> {
            var backoff = Backoff(seed: seed)
            for _ in 0..<20 { _ = backoff.nextDelay(policy: defaults) }
            backoff.reset()
            let delay = backoff.nextDelay(policy: defaults)
            XCTAssertLessThanOrEqual(delay, 500_000_000)
            XCTAssertGreaterThanOrEqual(delay, 250_000_000)
        }
    }

    func testWeightedFailureWaitsLonger() {
        var plain = Backoff(seed: 3)
        var weighted = Backoff(seed: 3)
        let normal = plain.nextDelay(policy: BackoffPolicy(initial: .seconds(1), jitter: 0))
        let longer = weighted.nextDelay(policy: BackoffPolicy(initial: .seconds(1), jitter: 0), weight: 2)
        XCTAssertEqual(normal, 1_000_000_000)
        XCTAssertEqual(longer, 2_000_000_000)
    }

    func testJitterSpreadsRoomsThatFailTogether() {
        // 1,000 rooms (different seeds) failing at once must not all retry at the same instant.
        var delays = Set<Int64>()
        for room in 0..<1_000 {
            var backoff = Backoff(seed: UInt64(room))
            delays.insert(backoff.nextDelay(policy: policy) / 1_000_000)  // milliseconds
        }
        XCTAssertGreaterThan(delays.count, 40, "50 distinct milliseconds are possible in [50, 100] ms")
    }

    func testSameSeedReplaysSameJitter() {
        var a = Backoff(seed: 99)
        var b = Backoff(seed: 99)
        for _ in 0..<20 { XCTAssertEqual(a.nextDelay(policy: policy), b.nextDelay(policy: policy)) }
    }

    func testPolicyClampsNonsense() {
        let odd = BackoffPolicy(multiplier: 0.1, jitter: 7)
        XCTAssertEqual(odd.multiplier, 1)
        XCTAssertEqual(odd.jitter, 1)
    }

    func testDurationNanosecondsSaturates() {
        XCTAssertEqual(Duration.milliseconds(1500).nanoseconds, 1_500_000_000)
        XCTAssertEqual(Duration.seconds(Int64.max).nanoseconds, Int64.max)
    }
}
