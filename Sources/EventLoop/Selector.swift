import CDanmuSystem
import Glibc

/// What a registration waits for. Never empty: waiting for nothing is `Selector.deregister`, not a zero mask
/// (epoll reports HUP and ERR even for a zero mask, so "registered for nothing" spins a paused socket).
struct Interest: Equatable, Sendable {
    /// The epoll bits; never 0.
    let epollEvents: UInt32

    private init(_ events: UInt32) {
        assert(events != 0)
        epollEvents = events
    }

    /// Readable data or end of stream (EPOLLRDHUP: the peer shut down its side).
    static let readable = Interest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    /// Room in the send buffer, or a non-blocking connect that finished.
    static let writable = Interest(EPOLLOUT.rawValue)
    /// Both.
    static let readWrite = Interest(EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLOUT.rawValue)

    /// The interest for the two wishes; nil when neither (deregister).
    static func wanting(readable: Bool, writable: Bool) -> Interest? {
        switch (readable, writable) {
        case (true, true): return .readWrite
        case (true, false): return .readable
        case (false, true): return .writable
        case (false, false): return nil
        }
    }
}

/// One epoll event, decoded once (mio's `Event`): the token and what it reports.
struct Readiness: Equatable {
    let token: UInt64
    /// EPOLLIN or EPOLLRDHUP: a read will not block (data, EOF or an error to collect).
    let isReadable: Bool
    /// EPOLLOUT.
    let isWritable: Bool
    /// EPOLLHUP: both directions are gone. Reported whatever the interest.
    let isHangUp: Bool
    /// EPOLLERR: a pending socket error (read it with SO_ERROR). Reported whatever the interest.
    let isError: Bool

    init(token: UInt64, events: UInt32) {
        self.token = token
        isReadable = events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0
        isWritable = events & EPOLLOUT.rawValue != 0
        isHangUp = events & EPOLLHUP.rawValue != 0
        isError = events & EPOLLERR.rawValue != 0
    }
}

/// The reactor's epoll instance (mio's `Selector`): register / reregister / deregister an fd under a token with an
/// `Interest`, and wait into a preallocated buffer. Level-triggered throughout (see `Reactor`). Loop-confined
/// once the loop runs; every call goes through the `SystemCalls` table, so tests can script it.
struct Selector {
    let fd: Int32
    let system: SystemCalls

    /// `epoll_create1(EPOLL_CLOEXEC)`, made non-blocking: epoll_wait ignores O_NONBLOCK, but every fd we own is
    /// non-blocking, so there is no exception to audit.
    init(system: SystemCalls) throws(SystemError) {
        self.system = system
        fd = try blockingSyscall("epoll_create1") { CDanmuSystem.epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            try Posix.fcntl(fd, F_SETFL, O_NONBLOCK)
        } catch {
            Posix.close(fd)
            throw error
        }
    }

    /// `EPOLL_CTL_ADD`.
    func register(_ target: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, target, token: token, events: interest.epollEvents)
    }

    /// `EPOLL_CTL_MOD`.
    func reregister(_ target: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, target, token: token, events: interest.epollEvents)
    }

    /// `EPOLL_CTL_DEL`. (Closing an fd also removes it: we never dup, so a close needs no deregister.)
    func deregister(_ target: Int32) throws(SystemError) {
        try control(EPOLL_CTL_DEL, target, token: 0, events: 0)
    }

    private func control(_ operation: Int32, _ target: Int32, token: UInt64, events: UInt32) throws(SystemError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        _ = try blockingSyscall("epoll_ctl") { system.c.epoll_ctl(fd, operation, target, &event) }
    }

    /// `epoll_wait` into `events`; returns how many were filled. `timeout` in ms, -1 to wait for ever.
    func select(into events: UnsafeMutableBufferPointer<epoll_event>, timeout: Int32) throws(SystemError) -> Int {
        Int(
            try blockingSyscall("epoll_wait") {
                system.c.epoll_wait(fd, events.baseAddress, Int32(events.count), timeout)
            })
    }

    /// The decoded event at `index` of the buffer `select` filled.
    static func readiness(_ events: UnsafeMutableBufferPointer<epoll_event>, at index: Int) -> Readiness {
        let event = events[index]
        return Readiness(token: event.data.u64, events: event.events)
    }

    func close() { Posix.close(fd) }
}
