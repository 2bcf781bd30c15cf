import CDanmuSystem
import Glibc

extension Reactor {
    /// Listens on `address` (port 0: any free port, see `localAddress(of:)`), SO_REUSEADDR set.
    /// Accepted sockets are non-blocking, close-on-exec and TCP_NODELAY.
    public func listen(on address: SocketAddress, backlog: Int32 = 4096, handler: any ListenerHandler)
        throws(SystemError) -> ListenerID
    {
        assertInLoop()
        guard acceptingWork else { throw SystemError(.shutdown, operation: "listen") }
        let fd = try system.socket(AF_INET, Int32(SOCK_STREAM.rawValue))
        do {
            try Posix.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            try Posix.bind(fd, address)
            try Posix.listen(fd, backlog)
        } catch {
            Posix.close(fd)
            throw error
        }
        let slot = allocateSlot()
        table[slot].fd = fd
        table[slot].kind = .listener
        table[slot].listenerHandler = handler
        let id = ListenerID(slot: UInt32(slot), generation: table[slot].generation)
        let token = Registration.token(slot: slot, generation: id.generation)
        do {
            try selector.register(fd, token: token, interest: .readable)
        } catch {
            closeListener(slot: slot)
            throw error
        }
        table[slot].registered = .readable
        return id
    }

    /// The bound address of a listener (its real port when it listened on port 0); nil for a dead id.
    public func localAddress(of listener: ListenerID) -> SocketAddress? {
        assertInLoop()
        guard let slot = liveListenerSlot(listener) else { return nil }
        return try? Posix.getsockname(table[slot].fd)
    }

    /// Closes the listening socket. Connections it accepted stay open. Idempotent.
    public func stopListening(_ listener: ListenerID) {
        assertInLoop()
        guard let slot = liveListenerSlot(listener) else { return }
        closeListener(slot: slot)
    }

    func liveListenerSlot(_ listener: ListenerID) -> Int? {
        let slot = Int(listener.slot)
        guard slot < table.count, table[slot].generation == listener.generation, table[slot].kind == .listener
        else { return nil }
        return slot
    }

    func closeListener(slot: Int) {
        let entry = releaseSlot(slot)
        Posix.close(entry.fd)
    }

    /// Accepts up to `maxAcceptsPerEvent` connections. Out of fds (EMFILE/ENFILE) or memory, the listener leaves
    /// epoll for `acceptBackoff`: the pending connection stays in the backlog and level-triggered epoll would
    /// otherwise report it again at once, spinning the loop.
    func acceptConnections(slot: Int) {
        let listener = ListenerID(slot: UInt32(slot), generation: table[slot].generation)
        let fd = table[slot].fd
        for _ in 0..<configuration.maxAcceptsPerEvent {
            // A didAccept callback may have stopped this listener.
            guard liveListenerSlot(listener) != nil else { return }
            let accepted: (Int32, SocketAddress)
            do {
                guard case .done(let result) = try system.accept4(fd) else { return }
                accepted = result
            } catch {
                switch error.errno {
                case .tooManyOpenFiles, .tooManyOpenFilesInSystem, .noBufferSpace, .noMemory:
                    pauseAccepting(slot: slot, listener: listener)
                    return
                default:
                    continue  // ECONNABORTED and friends concern that one connection only
                }
            }
            let (connectionFD, peer) = accepted
            try? Posix.setsockopt(connectionFD, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let connectionSlot = allocateSlot()
            table[connectionSlot].fd = connectionFD
            table[connectionSlot].kind = .connected
            let id = ConnectionID(slot: UInt32(connectionSlot), generation: table[connectionSlot].generation)
            let listenerHandler = table[slot].listenerHandler!
            let handler = listenerHandler.listener(listener, didAccept: id, from: peer)
            // didAccept may have closed the new connection or stopped the listener.
            guard liveSlot(id) != nil else { continue }
            table[connectionSlot].connectionHandler = handler
            if !table[connectionSlot].writes.isEmpty { table[connectionSlot].writesBlocked = true }
            guard updateInterest(slot: connectionSlot) else { continue }
            handler.connectionDidOpen(id)
        }
    }

    private func pauseAccepting(slot: Int, listener: ListenerID) {
        table[slot].isPaused = true
        updateInterest(slot: slot)
        _ = schedule(after: configuration.acceptBackoff) { [unowned self] in
            guard let slot = self.liveListenerSlot(listener) else { return }
            self.table[slot].isPaused = false
            self.updateInterest(slot: slot)
        }
    }
}
