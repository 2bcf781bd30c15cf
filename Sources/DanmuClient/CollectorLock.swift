import Glibc

/// A value guarded by a `pthread_mutex_t`: the collector's lock for state shared between threads.
///
/// Why not `Synchronization.Mutex`: on Linux its lock and unlock run inside the prebuilt standard library, out
/// of ThreadSanitizer's sight, so `swift test --sanitize=thread` reports every access it guards as a race
/// (checked with a two-thread counter: the total is right, TSan still warns). TSan intercepts
/// `pthread_mutex_lock`, so with this lock its reports mean something. The uncontended cost is the same
/// order (one atomic exchange in glibc's fast path).
final class CollectorLock<Value>: @unchecked Sendable {
    // pthread_mutex_t must not move once initialised: it lives in its own allocation.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Do not call back into the same lock from `body`.
    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
