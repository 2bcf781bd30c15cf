import EventLoop
import Glibc

/// Spaces HTTP requests at least `minimumInterval` apart across every room that shares it
/// (docs/protocol.md §2.4: "太频繁的话这个也会被bilibili暂时ban" — fan-out must stay ≈ 1 request/s).
///
/// Each caller reserves the next free slot under the lock and then sleeps outside it, so callers are
/// served in arrival order and the lock is never held while sleeping. Blocking: never call on the IO thread.
final class HTTPRequestPacer: Sendable {
    let minimumInterval: Duration
    private let clock = ContinuousClock()
    // Guarded by itself: the instant of the last reserved slot.
    private let lastSlot: Lock<ContinuousClock.Instant?> = Lock(nil)
    // Guarded by itself: a risk-control penalty; no slot is handed out before it.
    private let blockedUntil: Lock<ContinuousClock.Instant?> = Lock(nil)

    init(minimumInterval: Duration = .seconds(1)) {
        self.minimumInterval = minimumInterval
    }

    /// Blocks until the caller may send its request.
    func waitForSlot() {
        let now = clock.now
        let penalty = blockedUntil.withLock { $0 }
        let slot: ContinuousClock.Instant = lastSlot.withLock { last in
            var next = now
            if let last, last + minimumInterval > next { next = last + minimumInterval }
            if let penalty, penalty > next { next = penalty }
            last = next
            return next
        }
        HTTPRequestPacer.sleep(until: slot, clock: clock)
    }

    /// Delays every following slot by `delay` from now (after a -352 / HTML answer).
    func penalise(for delay: Duration) {
        let until = clock.now + delay
        blockedUntil.withLock { current in
            if current == nil || current! < until { current = until }
        }
    }

    static func sleep(until deadline: ContinuousClock.Instant, clock: ContinuousClock) {
        while true {
            let remaining = deadline - clock.now
            if remaining <= .zero { return }
            var request = remaining.timespec
            var rest = timespec()
            _ = nanosleep(&request, &rest)
        }
    }
}
