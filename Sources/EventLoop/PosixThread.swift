import CDanmuSystem
import Glibc

/// A pthread running one closure. No Dispatch, no Foundation: this is the whole threading layer, shared by every
/// module (the reactor, the pool, the resolver, the CLI's output and signal threads).
public struct PosixThread: @unchecked Sendable {
    /// The pthread; join or detach it exactly once.
    public let handle: pthread_t

    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a joinable thread named `name` (15 bytes at most are kept) running `body`.
    ///
    /// The thread blocks the asynchronous signals (SIGINT, SIGTERM, SIGPIPE, ...) so that they go to the program's
    /// own threads (danmu-cli takes them with `sigwait` on a thread of its own).
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> PosixThread {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let error = pthread_create(
            &handle, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                var signals = sigset_t()
                sigfillset(&signals)
                for synchronous in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT] {
                    sigdelset(&signals, synchronous)
                }
                pthread_sigmask(SIG_BLOCK, &signals, nil)
                _ = danmu_pthread_setname_np(pthread_self(), String(start.name.utf8.prefix(15))!)
                start.body()
                return nil
            }, start)
        if error != 0 {
            Unmanaged<AnyObject>.fromOpaque(start).release()
            throw SystemError(Errno(rawValue: error), operation: "pthread_create")
        }
        return PosixThread(handle: handle)
    }

    /// Waits for the thread to end.
    public func join() {
        let error = pthread_join(handle, nil)
        precondition(error == 0, "pthread_join failed: \(Errno(rawValue: error))")
    }

    /// Lets the thread's resources go when it ends (instead of `join`).
    public func detach() { pthread_detach(handle) }

    /// The number of online CPUs (at least 1).
    public static var cpuCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// A counting semaphore (`sem_t`): one thread waits until another signals (a one-shot gate, a hand-over).
public final class Semaphore: @unchecked Sendable {
    // sem_t must not move: it lives in its own allocation. sem_* functions are thread-safe.
    private let semaphore: UnsafeMutablePointer<sem_t>

    /// A semaphore with `value` initial permits.
    public init(value: UInt32 = 0) {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, value)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Adds one permit (wakes one waiter).
    public func signal() { sem_post(semaphore) }

    /// Takes one permit, waiting for it if there is none.
    public func wait() {
        while sem_wait(semaphore) == -1 && errno == EINTR {}
    }
}
