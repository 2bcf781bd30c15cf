/// Identifies one connection of one reactor: a slot in the reactor's registration table plus the slot's generation.
///
/// When a connection closes its slot's generation moves on, so a later connection in the same slot (even on the
/// same fd number) has a different id: a stale id is ignored and a stale epoll event is dropped.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    let slot: UInt32
    let generation: UInt32

    /// `conn#12.3` (slot 12, generation 3).
    public var description: String { "conn#\(slot).\(generation)" }
}

/// Identifies one listening socket of one reactor (slot + generation, like `ConnectionID`).
public struct ListenerID: Hashable, Sendable, CustomStringConvertible {
    let slot: UInt32
    let generation: UInt32

    /// `listener#0.1`.
    public var description: String { "listener#\(slot).\(generation)" }
}

/// Why a connection closed. Delivered exactly once per connection through `didClose`.
public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    /// The peer closed its side (read returned 0).
    case eof
    /// `close`, `closeAfterFlush` or `Reactor.shutdown()` closed it.
    case closedLocally
    /// The connect did not finish within its timeout.
    case connectTimeout
    /// A system call failed; `ECONNRESET` and `ECONNREFUSED` arrive here.
    case error(SystemError)

    public var description: String {
        switch self {
        case .eof: "eof"
        case .closedLocally: "closed locally"
        case .connectTimeout: "connect timeout"
        case .error(let error): "\(error)"
        }
    }
}

/// Loop-confined callbacks of one connection. Every method runs on the reactor's IO thread.
///
/// The reactor retains the handler from `connect`/accept until `didClose` has been delivered, then releases it.
public protocol ConnectionHandler: AnyObject {
    /// The connect finished (or the connection was accepted). Writes made before this are already queued.
    func connectionDidOpen(_ connection: ConnectionID)
    /// Bytes arrived. They live in the reactor's ONE shared receive buffer and are overwritten by the next read:
    /// copy what you keep.
    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer)
    /// The connection is gone; called exactly once. The id is dead afterwards (every call with it is ignored).
    func connection(_ connection: ConnectionID, didClose reason: CloseReason)
    /// The write queue, after having held bytes the kernel did not take at once, is empty again.
    func connectionDidDrainWrites(_ connection: ConnectionID)
}

extension ConnectionHandler {
    /// Default: nothing to do.
    public func connectionDidDrainWrites(_ connection: ConnectionID) {}
}

/// Loop-confined callback of a listening socket.
public protocol ListenerHandler: AnyObject {
    /// A connection was accepted; return the handler that will own it (its `connectionDidOpen` follows at once).
    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
}
