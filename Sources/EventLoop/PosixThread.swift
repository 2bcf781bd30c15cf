import CDanmuSystem
import Glibc

/// A pthread running one closure. No Dispatch, no Foundation: this is the whole threading layer.
struct PosixThread {
    let handle: pthread_t

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
    /// own threads, where `Reactor.watchSignals` can turn them into signalfd events.
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> PosixThread {
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
    func join() {
        let error = pthread_join(handle, nil)
        precondition(error == 0, "pthread_join failed: \(Errno(rawValue: error))")
    }

    /// Whether the calling thread is this thread.
    var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// The number of online CPUs (at least 1).
    static var cpuCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// A counting semaphore (`sem_t`), the one blocking primitive the pool needs besides `Lock`.
final class Semaphore: @unchecked Sendable {
    // sem_t must not move: it lives in its own allocation. sem_* functions are thread-safe.
    private let semaphore: UnsafeMutablePointer<sem_t>

    init(value: UInt32 = 0) {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, value)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func signal() { sem_post(semaphore) }

    func wait() {
        while sem_wait(semaphore) == -1 && errno == EINTR {}
    }
}
