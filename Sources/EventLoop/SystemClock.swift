import Glibc

/// The two clocks every module reads, through `clock_gettime` (vDSO: no syscall).
public enum SystemClock {
    /// CLOCK_MONOTONIC in nanoseconds: deadlines, rates, every reactor timer. Never jumps.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// CLOCK_REALTIME in nanoseconds since the Unix epoch: timestamps people read. May jump.
    @inline(__always)
    public static func realtimeNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds, negative durations as 0, saturating at `Reactor.distantFuture` (~292 years): wrapping
    /// turned `.seconds(Int64.max)` into a small number, a timer that fired at once (testHugeDelayNeverFires).
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || whole >= Reactor.distantFuture { return Reactor.distantFuture }
        return min(whole + UInt64(attoseconds / 1_000_000_000), Reactor.distantFuture)
    }

    /// The duration as a `timespec` (for `nanosleep` and timed waits), negative as zero, saturating.
    public var timespec: Glibc.timespec {
        let total = nanoseconds
        return Glibc.timespec(tv_sec: Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
    }
}
