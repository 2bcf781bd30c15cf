import Glibc

/// A POSIX error number with Swift names for the codes the reactor handles.
///
/// `Errno` is a plain value: compare it with the static members (`.again`, `.connectionRefused`, ...) or with any
/// raw `errno` value. Its description is the C name plus `strerror(3)` text, e.g. `ECONNREFUSED (Connection refused)`.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw `errno` value.
    public var rawValue: Int32

    /// Wraps a raw `errno` value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `EAGAIN`: the operation would block.
    public static let again = Errno(rawValue: EAGAIN)
    /// `EINTR`: a signal interrupted the call.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EINPROGRESS`: a non-blocking connect has started.
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    /// `ECONNREFUSED`: nobody listens on the peer's port.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `ECONNRESET`: the peer reset the connection.
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `ECONNABORTED`: a pending connection was aborted before accept.
    public static let connectionAborted = Errno(rawValue: ECONNABORTED)
    /// `EPIPE`: writing to a connection whose peer has gone.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `EMFILE`: this process has no file descriptor left.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// `ENFILE`: the system has no file descriptor left.
    public static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
    /// `ENOBUFS`: the kernel is out of buffer space.
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    /// `ENOMEM`: the kernel is out of memory.
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// `ETIMEDOUT`: the kernel gave up on the connection.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `EHOSTUNREACH`: no route to the peer.
    public static let hostUnreachable = Errno(rawValue: EHOSTUNREACH)
    /// `ENETUNREACH`: the network is unreachable.
    public static let networkUnreachable = Errno(rawValue: ENETUNREACH)
    /// `EADDRINUSE`: the local address is taken.
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `EADDRNOTAVAIL`: the local address does not exist here (or no ephemeral port is left).
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    /// `EINVAL`: an invalid argument (for example a malformed IPv4 address).
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `EBADF`: not an open file descriptor (always a bug of ours; the syscall helper traps on it).
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `ESHUTDOWN`: the reactor has been shut down (or was never started).
    public static let shutdown = Errno(rawValue: ESHUTDOWN)

    /// The C name of the well-known codes.
    private var name: String? {
        switch rawValue {
        case EAGAIN: "EAGAIN"
        case EINTR: "EINTR"
        case EINPROGRESS: "EINPROGRESS"
        case ECONNREFUSED: "ECONNREFUSED"
        case ECONNRESET: "ECONNRESET"
        case ECONNABORTED: "ECONNABORTED"
        case EPIPE: "EPIPE"
        case EMFILE: "EMFILE"
        case ENFILE: "ENFILE"
        case ENOBUFS: "ENOBUFS"
        case ENOMEM: "ENOMEM"
        case ETIMEDOUT: "ETIMEDOUT"
        case EHOSTUNREACH: "EHOSTUNREACH"
        case ENETUNREACH: "ENETUNREACH"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case EINVAL: "EINVAL"
        case EBADF: "EBADF"
        case ESHUTDOWN: "ESHUTDOWN"
        default: nil
        }
    }

    /// `ECONNREFUSED (Connection refused)`, or `errno 123 (...)` for codes without a Swift name.
    public var description: String {
        // strerror is not thread-safe in theory; glibc returns static strings for known codes, which is fine here.
        let text = strerror(rawValue).map { String(cString: $0) } ?? "unknown error"
        return "\(name ?? "errno \(rawValue)") (\(text))"
    }
}

/// A failed system call: which call, and the `errno` it left.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The error number.
    public var errno: Errno
    /// The operation that failed, usually the C function's name (`connect`, `epoll_ctl`, ...).
    public var operation: String

    /// Makes an error for `operation` failing with `errno`.
    public init(_ errno: Errno, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// `connect: ECONNREFUSED (Connection refused)`.
    public var description: String { "\(operation): \(errno)" }
}
