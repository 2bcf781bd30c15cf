import CDanmuSystem
import Glibc

/// The kernel seam: the socket and epoll calls the reactor makes on its IO path, as a table of C-shaped
/// functions. `SystemCalls.live` calls the C library; a test builds a table that scripts some answers (set
/// `errno` and return -1, return a short count, add `EPOLLHUP` to an event) and forwards the rest to `live`,
/// so `EAGAIN`, short writes, `EINPROGRESS`, `ECONNREFUSED` and hang-ups can be tested deterministically
/// beside the real-socket tests (swift-system's mocking has the same shape: the wrappers stay the same, the
/// functions under them change).
///
/// The typed wrappers below go through THE syscall helper (`syscall`), so a scripted errno is handled exactly
/// like a real one: `EINTR` retried, `EAGAIN` → `.wouldBlock`, `EBADF` traps, the rest thrown with the name.
/// A table is immutable once a reactor holds it: it is read from the IO thread only.
struct SystemCalls: @unchecked Sendable {
    /// The C functions, under their C names. Replace one to script it.
    struct Functions {
        var socket: (_ domain: Int32, _ type: Int32, _ protocol: Int32) -> Int32 = { Glibc.socket($0, $1, $2) }
        var connect: (_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 = {
            Glibc.connect($0, $1, $2)
        }
        var read: (_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int = { Glibc.read($0, $1, $2) }
        var send: (_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int = {
            Glibc.send($0, $1, $2, $3)
        }
        var sendmsg: (_ fd: Int32, _ message: UnsafePointer<msghdr>, _ flags: Int32) -> Int = {
            Glibc.sendmsg($0, $1, $2)
        }
        var accept4:
            (
                _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?,
                _ flags: Int32
            )
                -> Int32 = { CDanmuSystem.danmu_accept4($0, $1, $2, $3) }
        var getsockopt:
            (
                _ fd: Int32, _ level: Int32, _ name: Int32, _ value: UnsafeMutableRawPointer?,
                _ length: UnsafeMutablePointer<socklen_t>?
            ) -> Int32 = { Glibc.getsockopt($0, $1, $2, $3, $4) }
        var epoll_ctl: (_ epfd: Int32, _ op: Int32, _ fd: Int32, _ event: UnsafeMutablePointer<epoll_event>?) -> Int32 =
            {
                CDanmuSystem.epoll_ctl($0, $1, $2, $3)
            }
        var epoll_wait:
            (_ epfd: Int32, _ events: UnsafeMutablePointer<epoll_event>?, _ maxEvents: Int32, _ timeout: Int32) -> Int32 =
                {
                    CDanmuSystem.epoll_wait($0, $1, $2, $3)
                }
    }

    var c = Functions()

    /// The C library itself.
    static let live = SystemCalls()

    // MARK: Typed wrappers (the man pages are the documentation)

    /// `socket(2)`: always non-blocking and close-on-exec.
    func socket(_ domain: Int32, _ type: Int32) throws(SystemError) -> Int32 {
        try blockingSyscall("socket") {
            c.socket(domain, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    /// `connect(2)` on a non-blocking socket: `true` when connected at once, `false` when `EINPROGRESS`.
    func connect(_ fd: Int32, _ address: SocketAddress) throws(SystemError) -> Bool {
        var storage = address.sockaddr
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                c.connect(fd, generic, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return true }
        let code = errno
        // EINTR on a non-blocking connect: the attempt goes on in the background, like EINPROGRESS.
        if code == EINPROGRESS || code == EINTR || code == EALREADY { return false }
        if code == EBADF || code == EFAULT { preconditionFailure("connect failed with EBADF/EFAULT") }
        throw SystemError(Errno(rawValue: code), operation: "connect")
    }

    /// `read(2)` into `buffer`; `.done(0)` is end of file.
    func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("read") { c.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `send(2)` with `MSG_NOSIGNAL`: a write to a socket whose peer is gone returns `EPIPE` instead of raising
    /// SIGPIPE (which kills a process that did not ignore it: a library must not rely on its host doing so).
    func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("send") { c.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    /// `sendmsg(2)` of an iovec array with `MSG_NOSIGNAL`: writev semantics without SIGPIPE for a gone peer.
    func writev(_ fd: Int32, _ iovecs: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int> {
        try syscall("writev") {
            var message = msghdr()
            message.msg_iov = iovecs.baseAddress
            message.msg_iovlen = iovecs.count
            return c.sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
        }
    }

    /// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`; `.wouldBlock` when no connection is pending.
    func accept4(_ fd: Int32) throws(SystemError) -> IOResult<(Int32, SocketAddress)> {
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = try syscall("accept4") {
            withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    c.accept4(fd, generic, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
        }
        switch result {
        case .done(let accepted): return .done((accepted, SocketAddress(peer)))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// `getsockopt(SOL_SOCKET, SO_ERROR)`: the pending error of a socket (0: none), which it also clears.
    func pendingError(_ fd: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try blockingSyscall("getsockopt") { c.getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }
}
