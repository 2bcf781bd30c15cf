import Glibc

/// Introspection for tests and benchmarks (loop thread only).
extension Reactor {
    /// Every fd the reactor owns right now: epoll, eventfd, timerfd, listeners and connections.
    func ownedFileDescriptors() -> [Int32] {
        assertInLoop()
        var fds = [selector.fd, eventFD, timerFD]
        for entry in table where entry.kind != .free { fds.append(entry.fd) }
        return fds
    }

    /// Sets an Int32 socket option on a connection (e.g. a streaming server bounds SO_SNDBUF; tests shrink
    /// SO_SNDBUF/SO_RCVBUF with it). Throws `.badFileDescriptor` for a connection that is gone.
    public func setSocketOption(_ connection: ConnectionID, level: Int32, name: Int32, value: Int32) throws(SystemError)
    {
        assertInLoop()
        guard let slot = liveSlot(connection) else { throw SystemError(.badFileDescriptor, operation: "setsockopt") }
        try Posix.setsockopt(table[slot].fd, level, name, value)
    }

    /// The fd behind a connection (tests only: never close it).
    func fileDescriptor(of connection: ConnectionID) -> Int32? {
        assertInLoop()
        return liveSlot(connection).map { table[$0].fd }
    }

    /// Loop turns so far (epoll_wait returns).
    var turnCount: Int {
        assertInLoop()
        return counters.turns
    }

    /// When the current turn's `epoll_wait` returned (CLOCK_MONOTONIC ns), for latency attribution: a callback
    /// subtracts it from its own time to see how long the turn's other work held it back.
    public var turnStartedAt: UInt64 {
        assertInLoop()
        return counters.turnStartedAt
    }

    /// Events dropped because their registration had been closed (the generation did not match).
    var staleEventCount: Int {
        assertInLoop()
        return counters.staleEvents
    }

    /// Bytes of the registration table (the reactor's per-connection state), for the memory benchmark.
    var registrationTableBytes: Int {
        assertInLoop()
        return table.capacity * MemoryLayout<Registration>.stride
    }
}
