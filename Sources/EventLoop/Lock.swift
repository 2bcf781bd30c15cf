import Glibc

/// A value guarded by a `pthread_mutex_t`, with `Mutex`'s `withLock` shape.
///
/// Why not `Synchronization.Mutex`: on Linux it parks on a raw futex, which ThreadSanitizer cannot see, so every
/// contended hand-over through it is reported as a data race (the whole suite drowned in false reports under
/// `swift test --sanitize=thread`; the simulator's author hit the same). pthread mutexes are intercepted by TSan and
/// cost the same uncontended. `Atomic` stays what it is: TSan understands atomics.
public final class Lock<Value>: @unchecked Sendable {
    // The mutex must not move: it lives in its own allocation. Every access to `value` holds it.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        let error = pthread_mutex_init(mutex, nil)
        precondition(error == 0, "pthread_mutex_init failed: \(error)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
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
}
