import EventLoop

/// How long a room waits before reconnecting after a failure.
///
/// Exponential with jitter and a cap: the n-th consecutive failure waits about `initial × multiplier^(n-1)`,
/// never more than `maximum`, and a random part (`jitter`, a fraction of the delay) is removed so that ten
/// thousand rooms dropped by the same server hiccup do not all come back in the same millisecond.
/// A good connection (authenticated, delivered data, live at least `healthyAfter`) resets the counter: after it the
/// room waits only the first step. Everything else counts, so the pause grows across failures that come before or
/// just after auth.
public struct BackoffPolicy: Sendable, Equatable {
    /// Delay after the first failure.
    public var initial: Duration
    /// Upper bound of any delay.
    public var maximum: Duration
    /// Growth factor per consecutive failure (≥ 1).
    public var multiplier: Double
    /// Fraction of each delay that is randomized, 0 (none) … 1 (full jitter). The delay lies in
    /// `[d × (1 − jitter), d]`.
    public var jitter: Double
    /// A connection that authenticated, received data after AUTH_REPLY and stayed live at least this long was a
    /// good one: its end does not escalate, the next pause is the first step (`initial`, jittered). A shorter one
    /// counts as a failure, the guard against a server that accepts, authenticates, sends a message and closes in
    /// a tight loop: such a room backs off to `maximum` as if refused. 2 s: far below any server's idea of a
    /// session (the live server keeps one for minutes; issue 17 measured churn after ~20 s), far above a
    /// close-on-accept loop (milliseconds).
    public var healthyAfter: Duration

    public init(
        initial: Duration = .milliseconds(500),
        maximum: Duration = .seconds(60),
        multiplier: Double = 2,
        jitter: Double = 0.5,
        healthyAfter: Duration = .seconds(2)
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
        self.healthyAfter = healthyAfter
    }
}

/// The consecutive-failure counter of one room plus its private random source (pure: no clock, no globals).
struct Backoff {
    /// Consecutive failures since the last healthy period.
    private(set) var failures: Int = 0
    private var random: SplitMix64

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// Records one more failure (`weight` > 1 for failures that deserve a longer pause, such as a rejected
    /// auth) and returns the delay in nanoseconds before the next attempt.
    mutating func nextDelay(policy: BackoffPolicy, weight: Int = 1) -> Int64 {
        failures += max(1, weight)
        let initial = Double(policy.initial.nanoseconds)
        let maximum = Double(policy.maximum.nanoseconds)
        // Exponent capped so that pow() cannot overflow to infinity for a room failing for days.
        let raw = min(maximum, initial * power(policy.multiplier, min(failures - 1, 62)))
        let fraction = Double(random.next() >> 11) / Double(1 << 53)  // uniform in [0, 1)
        let delay = raw * (1 - policy.jitter * fraction)
        return Int64(max(0, delay))
    }

    /// Forgets past failures (after a healthy period).
    mutating func reset() {
        failures = 0
    }
}

/// `base^exponent` for small non-negative exponents, without Foundation's `pow`; stops growing near 1e300.
private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    var remaining = exponent
    while remaining > 0 && result < 1e300 {
        result *= base
        remaining -= 1
    }
    return result
}

extension Duration {
    /// Whole nanoseconds (saturating), the unit of the room state machine's clock.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return fromSeconds &+ attoseconds / 1_000_000_000
    }
}
