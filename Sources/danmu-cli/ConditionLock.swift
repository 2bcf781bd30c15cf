import EventLoop
import Glibc

/// A pthread mutex with one condition variable whose timed waits use `CLOCK_MONOTONIC` (the Synchronization
/// module's `Mutex` has no condition, and the CLI may not use Dispatch). Both live at stable heap addresses,
/// as pthread objects must not move.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes every waiter. Call with or without the lock held.
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits (lock held) until woken.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits (lock held) until woken or until the monotonic clock reaches `deadline` nanoseconds.
    /// Returns false when the deadline passed.
    @discardableResult
    func wait(untilMonotonic deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(condition, mutex, &ts) != ETIMEDOUT
    }
}

extension PosixThread {
    /// Starts one of the CLI's few long-lived threads (output, signals, benchmark producers). Without it the
    /// command cannot run: a failure ends it with the reason (exit 1), never a trap.
    @discardableResult
    static func startOrExit(name: String, _ body: @escaping @Sendable () -> Void) -> PosixThread {
        do {
            return try PosixThread.spawn(name: name, body)
        } catch {
            StandardError.print("danmu-cli: cannot start the \(name) thread: \(error)")
            exit(1)
        }
    }
}
