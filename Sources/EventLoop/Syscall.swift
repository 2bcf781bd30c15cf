import CDanmuSystem
import Glibc

/// What a non-blocking system call did: finished with a value, or would have blocked (`EAGAIN`).
enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// THE syscall helper: every call of the module goes through here.
///
/// `@inline(never)` so nothing the optimiser moves in between can clobber `errno` before we read it (the reason
/// SwiftNIO's `syscall` wrapper is written the same way). It retries `EINTR`, maps `EAGAIN`/`EWOULDBLOCK` to
/// `.wouldBlock`, traps on `EBADF`/`EFAULT` (those are bugs of ours: a double close or a wild pointer, and
/// continuing would corrupt someone else's fd), and throws every other error with the call's name.
@inline(never)
func syscall<T: FixedWidthInteger>(
    _ operation: StaticString,
    _ body: () -> T
) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let code = errno
        switch code {
        case EINTR:
            continue
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT:
            preconditionFailure("\(operation) failed with \(Errno(rawValue: code)): a bug in EventLoop")
        default:
            throw SystemError(Errno(rawValue: code), operation: String(describing: operation))
        }
    }
}

/// `syscall` for calls that cannot block (or where blocking is an error): `EAGAIN` is thrown like any other errno.
@inline(__always)
func blockingSyscall<T: FixedWidthInteger>(
    _ operation: StaticString,
    _ body: () -> T
) throws(SystemError) -> T {
    switch try syscall(operation, body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(.again, operation: String(describing: operation))
    }
}

/// POSIX calls under their C names; the man pages are the documentation.
enum Posix {
    /// `close(2)`. Never retried: on Linux the descriptor is gone even when close reports `EINTR`.
    static func close(_ fd: Int32) {
        if Glibc.close(fd) == -1 && errno == EBADF {
            preconditionFailure("close(\(fd)) failed with EBADF: double close, a bug in EventLoop")
        }
    }

    /// `bind(2)`.
    static func bind(_ fd: Int32, _ address: SocketAddress) throws(SystemError) {
        var storage = address.sockaddr
        _ = try blockingSyscall("bind") {
            withUnsafePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    Glibc.bind(fd, generic, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// `listen(2)`.
    static func listen(_ fd: Int32, _ backlog: Int32) throws(SystemError) {
        _ = try blockingSyscall("listen") { Glibc.listen(fd, backlog) }
    }

    /// `setsockopt(2)` with an `Int32` value.
    static func setsockopt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        _ = try blockingSyscall("setsockopt") {
            Glibc.setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// `getsockname(2)` for an IPv4 socket.
    static func getsockname(_ fd: Int32) throws(SystemError) -> SocketAddress {
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try blockingSyscall("getsockname") {
            withUnsafeMutablePointer(to: &local) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd, $0, &length) }
            }
        }
        return SocketAddress(local)
    }

    /// `fcntl(2)` without an argument (F_GETFL, F_GETFD).
    static func fcntl(_ fd: Int32, _ command: Int32) throws(SystemError) -> Int32 {
        try blockingSyscall("fcntl") { Glibc.fcntl(fd, command) }
    }

    /// `fcntl(2)` with an int argument (F_SETFL, F_SETFD).
    static func fcntl(_ fd: Int32, _ command: Int32, _ value: Int32) throws(SystemError) {
        _ = try blockingSyscall("fcntl") { Glibc.fcntl(fd, command, value) }
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 { SystemClock.monotonicNanoseconds() }

    /// Raises the `RLIMIT_NOFILE` soft limit to the hard limit; returns the new soft limit.
    @discardableResult
    static func raiseFileLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}

/// eventfd(2) and timerfd_create(2) under their C names.
enum EventFd {
    static func eventfd() throws(SystemError) -> Int32 {
        try blockingSyscall("eventfd") { CDanmuSystem.eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Adds one to the counter. `EAGAIN` (counter saturated) cannot lose a wake-up: it is still readable.
    static func signal(_ fd: Int32) throws(SystemError) {
        var one: UInt64 = 1
        _ = try syscall("eventfd write") { Glibc.write(fd, &one, 8) }
    }

    /// Reads (and so resets) the 8-byte counter; `false` if it was zero.
    @discardableResult
    static func drain(_ fd: Int32) throws(SystemError) -> Bool {
        var value: UInt64 = 0
        if case .done = try syscall("eventfd read", { Glibc.read(fd, &value, 8) }) { return true }
        return false
    }
}

enum TimerFd {
    static func timerfd_create() throws(SystemError) -> Int32 {
        try blockingSyscall("timerfd_create") {
            CDanmuSystem.timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        }
    }

    /// Arms the timer for the absolute CLOCK_MONOTONIC time `deadline` (ns), or disarms it when `nil`.
    static func timerfd_settime(_ fd: Int32, deadline: UInt64?) throws(SystemError) {
        var spec = itimerspec()
        if let deadline {
            // 0 would disarm; any past instant fires at once.
            let when = max(deadline, 1)
            spec.it_value.tv_sec = Int(when / 1_000_000_000)
            spec.it_value.tv_nsec = Int(when % 1_000_000_000)
        }
        _ = try blockingSyscall("timerfd_settime") {
            CDanmuSystem.timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil)
        }
    }
}
