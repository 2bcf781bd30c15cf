import CDanmuSystem
import Glibc

extension Reactor {
    /// Runs `fire` on the IO thread after `delay`, then every `period` if one is given (missed periods are skipped,
    /// the phase is kept). Loop thread only. Timers have 1 ms granularity (the timerfd is armed in whole ms).
    ///
    /// For many periodic timers (room heartbeats), spread the first `delay` over the period so that they do not
    /// all fire in the same millisecond: e.g. `delay = period * (hash % 1000) / 1000`.
    @discardableResult
    public func schedule(after delay: Duration, repeating period: Duration? = nil, _ fire: @escaping () -> Void)
        -> TimerID
    {
        let (deadline, overflow) = now.addingReportingOverflow(delay.nanoseconds)
        return schedule(
            at: overflow ? Reactor.distantFuture : min(deadline, Reactor.distantFuture), repeating: period, fire)
    }

    /// Like `schedule(after:)` with an absolute CLOCK_MONOTONIC deadline in nanoseconds (see `now`).
    @discardableResult
    public func schedule(at deadline: UInt64, repeating period: Duration? = nil, _ fire: @escaping () -> Void)
        -> TimerID
    {
        assertInLoop()
        let periodNanoseconds = period?.nanoseconds ?? 0
        precondition(period == nil || periodNanoseconds > 0, "a repeating timer needs a positive period")
        return timers.schedule(at: min(deadline, Reactor.distantFuture), period: periodNanoseconds, fire)
    }

    /// Like `schedule(at:)` for a one-shot timer that may fire up to `leeway` late: the deadline is rounded up to
    /// the next multiple of `leeway` on the monotonic clock, so every timer with that leeway due in the same
    /// interval fires in the same turn. 10,000 rooms' heartbeats spread by room id otherwise wake the loop in
    /// ~333 distinct milliseconds a second; with a 1 s leeway, once a second (redis `ae` has no per-client
    /// timers for the same reason). A leeway under 1 ms changes nothing (the timerfd's granularity).
    @discardableResult
    public func schedule(at deadline: UInt64, leeway: Duration, _ fire: @escaping () -> Void) -> TimerID {
        schedule(at: Reactor.align(deadline, leeway: leeway), fire)
    }

    /// `deadline` rounded up to a multiple of `leeway` (ns), clamped to `distantFuture`; unchanged under 1 ms.
    static func align(_ deadline: UInt64, leeway: Duration) -> UInt64 {
        let grid = leeway.nanoseconds
        let clamped = min(deadline, Reactor.distantFuture)
        guard grid >= 1_000_000 else { return clamped }
        let (up, overflow) = clamped.addingReportingOverflow(grid - 1)
        return overflow ? Reactor.distantFuture : min(up / grid * grid, Reactor.distantFuture)
    }

    /// Cancels a pending timer; a fired, cancelled or unknown id is ignored. O(log n).
    public func cancel(_ timer: TimerID) {
        assertInLoop()
        timers.cancel(timer)
    }

    /// Number of pending timers (loop thread).
    public var pendingTimerCount: Int {
        assertInLoop()
        return timers.count
    }

    /// Arms the timerfd for the earliest deadline, only when that moved earlier than what is armed (or nothing is
    /// armed): a later earliest deadline just costs one spurious wake-up, cheaper than a syscall per cancel.
    func rearmTimerIfNeeded() {
        guard let due = timers.nextDeadline else { return }
        // 1 ms granularity: timers due in the same millisecond share one arming. Clamped first, so rounding up
        // cannot wrap past UInt64.max into an instant in the past.
        let next = min(due, Reactor.distantFuture)
        let rounded = (next / 1_000_000 + 1) * 1_000_000
        if let armed = armedDeadline, armed <= rounded { return }
        do {
            try TimerFd.timerfd_settime(timerFD, deadline: rounded)
            armedDeadline = rounded
        } catch {
            preconditionFailure("timerfd_settime failed: \(error)")
        }
    }

    /// The timerfd fired: read its 8-byte expiry count (level-triggered, so it must be read), run what is due.
    func fireTimers() {
        var expirations: UInt64 = 0
        _ = try? syscall("timerfd read") { Glibc.read(timerFD, &expirations, 8) }
        armedDeadline = nil
        let now = self.now
        // Bounded: a callback scheduling `after: .zero` runs next turn, not in an endless loop here.
        var budget = timers.count
        while budget > 0, let (_, fire) = timers.popExpired(now: now) {
            budget -= 1
            fire()
            if stopRequested { return }
        }
    }
}
