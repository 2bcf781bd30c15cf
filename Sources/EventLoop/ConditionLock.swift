import Glibc

/// A value guarded by a `pthread_mutex_t` with one condition variable: `Lock`'s `withLock` plus waiting until
/// the value satisfies a predicate. Timed waits use `CLOCK_MONOTONIC` (the clock of `Posix.monotonicNanoseconds`
/// and of every reactor timer), so a wall-clock jump neither shortens nor stretches them.
///
/// pthread objects, not `Synchronization.Mutex`, for the reason given in `Lock`: ThreadSanitizer sees them.
public final class ConditionLock<Value>: @unchecked Sendable {
    // Mutex and condition must not move: they live in their own allocations. Every access to `value` holds
    // the mutex.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var value: Value

    /// A condition lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inline(__always)
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Waits until `condition(value)` holds or the monotonic clock reaches `deadline` (nanoseconds; nil: no
    /// limit), then runs `body` under the lock. `body`'s second argument says whether the condition held.
    public func withLock<Result>(
        waitingUntil condition: (Value) -> Bool, deadline: UInt64? = nil, _ body: (inout Value, Bool) -> Result
    ) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var satisfied = condition(value)
        while !satisfied {
            if let deadline {
                var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                let result = pthread_cond_timedwait(self.condition, mutex, &time)
                satisfied = condition(value)
                if result == ETIMEDOUT { break }
            } else {
                pthread_cond_wait(self.condition, mutex)
                satisfied = condition(value)
            }
        }
        return body(&value, satisfied)
    }

    /// Wakes one waiter. With or without the lock held.
    public func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter. With or without the lock held.
    public func broadcast() { pthread_cond_broadcast(condition) }
}
