import CDanmuSystem
import Glibc

extension Reactor {
    // MARK: Public connection API (loop thread only)

    /// Starts a non-blocking TCP connect (TCP_NODELAY set). The handler's `connectionDidOpen` follows when the
    /// connect finishes; a refused or timed-out connect arrives as `didClose(.error(...))` / `.connectTimeout`.
    /// Writes made before the connection opens are queued and sent once it does.
    /// - Parameter timeout: arms a reactor timer that closes a connect still pending after it; nil arms none, for a
    ///   caller whose own timer already bounds the attempt (one timer per connect, not two).
    /// - Throws: immediate failures for this connection only (`EMFILE` when out of fds, `.shutdown` after shutdown).
    public func connect(to address: SocketAddress, timeout: Duration?, handler: any ConnectionHandler)
        throws(SystemError) -> ConnectionID
    {
        try connect(to: address, from: nil, timeout: timeout, handler: handler)
    }

    /// `connect(to:timeout:handler:)` from a chosen local address: the socket is bound to `local` (its port is
    /// ignored: the kernel picks one) before the non-blocking connect, so the peer sees `local` as the source.
    /// - Parameter local: the source IPv4 address; nil lets the kernel choose (the plain `connect`).
    /// - Throws: as `connect(to:timeout:handler:)`, plus a `SystemError` whose operation is `bind(<local>)` when
    ///   `local` cannot be used (`EADDRNOTAVAIL`: not an address of this host). Only this connect fails.
    public func connect(
        to address: SocketAddress, from local: SocketAddress?, timeout: Duration?, handler: any ConnectionHandler
    ) throws(SystemError) -> ConnectionID {
        assertInLoop()
        guard acceptingWork else { throw SystemError(.shutdown, operation: "connect") }
        let fd = try system.socket(AF_INET, Int32(SOCK_STREAM.rawValue))
        do {
            try Posix.setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            if let local { try bindSource(fd, to: local) }
            // Even a connect that completes at once goes through EPOLLOUT, so connectionDidOpen never runs
            // inside connect() itself.
            _ = try system.connect(fd, address)
        } catch {
            Posix.close(fd)
            throw error
        }
        let slot = allocateSlot()
        table[slot].fd = fd
        table[slot].kind = .connecting
        table[slot].connectionHandler = handler
        let id = ConnectionID(slot: UInt32(slot), generation: table[slot].generation)
        guard updateInterest(slot: slot) else {
            // updateInterest closed it (and told the handler); report the failure like any later error.
            return id
        }
        guard let timeout else { return id }
        table[slot].connectTimer = schedule(after: timeout) { [unowned self] in
            guard let slot = self.liveSlot(id), self.table[slot].kind == .connecting else { return }
            self.table[slot].connectTimer = nil
            self.closeConnection(slot: slot, reason: .connectTimeout)
        }
        return id
    }

    /// Queues `bytes` for the connection and tries to send at once. Bytes the kernel does not take wait in the
    /// connection's write queue (EPOLLOUT is armed only while some are pending) and go out with writev, in order.
    /// Writes to a closed (dead) id are ignored. Errors surface as `didClose(.error)` from the loop, never
    /// from inside `write`.
    public func write(_ connection: ConnectionID, _ bytes: [UInt8]) {
        assertInLoop()
        guard let slot = liveSlot(connection), !bytes.isEmpty, !table[slot].closeAfterFlush else { return }
        if table[slot].kind == .connected && table[slot].writes.isEmpty {
            let fd = table[slot].fd
            let result = try? bytes.withUnsafeBytes { buffer throws(SystemError) in try system.send(fd, buffer) }
            if case .done(let written) = result, written == bytes.count { return }
            var sent = 0
            if case .done(let written) = result { sent = written }
            // Short write, EAGAIN or an error: queue the rest and let EPOLLOUT retry (an error then closes it).
            table[slot].writes.append(bytes, alreadySent: sent)
            table[slot].writesBlocked = true
            updateInterest(slot: slot)
            return
        }
        table[slot].writes.append(bytes)
        if table[slot].kind == .connected {
            table[slot].writesBlocked = true
            updateInterest(slot: slot)
        }
    }

    /// Bytes queued and not yet taken by the kernel (0 for a dead id).
    public func pendingWriteBytes(_ connection: ConnectionID) -> Int {
        assertInLoop()
        guard let slot = liveSlot(connection) else { return 0 }
        return table[slot].writes.pendingBytes
    }

    /// Closes the connection now (queued writes are dropped); the handler's `didClose(.closedLocally)` runs before
    /// this returns. Idempotent: a dead id is ignored.
    public func close(_ connection: ConnectionID) {
        assertInLoop()
        guard let slot = liveSlot(connection) else { return }
        closeConnection(slot: slot, reason: .closedLocally)
    }

    /// Stops reading, sends what is queued, then closes with `.closedLocally` (at once if nothing is queued).
    public func closeAfterFlush(_ connection: ConnectionID) {
        assertInLoop()
        guard let slot = liveSlot(connection) else { return }
        if table[slot].writes.isEmpty && table[slot].kind == .connected {
            closeConnection(slot: slot, reason: .closedLocally)
            return
        }
        table[slot].closeAfterFlush = true
        table[slot].isPaused = true
        updateInterest(slot: slot)
    }

    /// Stops reading the socket (EPOLLIN off): the kernel buffers, then TCP pushes back on the peer. Lossless.
    public func pauseReading(_ connection: ConnectionID) {
        assertInLoop()
        guard let slot = liveSlot(connection), !table[slot].isPaused else { return }
        table[slot].isPaused = true
        updateInterest(slot: slot)
    }

    /// Resumes reading after `pauseReading`.
    public func resumeReading(_ connection: ConnectionID) {
        assertInLoop()
        guard let slot = liveSlot(connection), table[slot].isPaused, !table[slot].closeAfterFlush else { return }
        table[slot].isPaused = false
        updateInterest(slot: slot)
    }

    /// Whether the id names an open (connecting or connected) connection.
    public func isOpen(_ connection: ConnectionID) -> Bool {
        assertInLoop()
        return liveSlot(connection) != nil
    }

    /// Whether reading is paused for the connection.
    public func isReadingPaused(_ connection: ConnectionID) -> Bool {
        assertInLoop()
        guard let slot = liveSlot(connection) else { return false }
        return table[slot].isPaused
    }

    // MARK: Internals

    /// Binds a connecting socket to `local` with port 0.
    private func bindSource(_ fd: Int32, to local: SocketAddress) throws(SystemError) {
        // IP_BIND_ADDRESS_NO_PORT: without it bind(port 0) must pick the ephemeral port now, before the
        // destination is known, so every port is reserved for all destinations and one address runs out after
        // ~28,000 sockets (ip_local_port_range). With it the port is chosen at connect() for the 4-tuple, and
        // thousands of rooms on one server share an address without exhausting its ports early.
        try Posix.setsockopt(fd, Int32(IPPROTO_IP), Int32(IP_BIND_ADDRESS_NO_PORT), 1)
        let source = SocketAddress(ipv4: local.ipv4, port: 0)
        do {
            try Posix.bind(fd, source)
        } catch {
            throw SystemError(error.errno, operation: "bind(\(source))")
        }
    }

    func liveSlot(_ connection: ConnectionID) -> Int? {
        let slot = Int(connection.slot)
        guard slot < table.count, table[slot].generation == connection.generation else { return nil }
        let kind = table[slot].kind
        return kind == .connecting || kind == .connected ? slot : nil
    }

    /// Frees the slot, tells the handler (exactly once: the slot is already dead when it runs), closes the fd.
    func closeConnection(slot: Int, reason: CloseReason) {
        let id = ConnectionID(slot: UInt32(slot), generation: table[slot].generation)
        let entry = releaseSlot(slot)
        if let timer = entry.connectTimer { timers.cancel(timer) }
        // didClose runs before the fd closes, so no new socket can take the fd number while the handler runs.
        // Closing the fd also removes it from epoll (we never dup): no EPOLL_CTL_DEL needed.
        entry.connectionHandler?.connection(id, didClose: reason)
        Posix.close(entry.fd)
    }

    func finishConnect(slot: Int) {
        let fd = table[slot].fd
        let error: Int32
        do {
            error = try system.pendingError(fd)
        } catch {
            closeConnection(slot: slot, reason: .error(error))
            return
        }
        if error != 0 {
            closeConnection(slot: slot, reason: .error(SystemError(Errno(rawValue: error), operation: "connect")))
            return
        }
        // SO_ERROR 0 with HUP/ERR but no EPOLLOUT: proceed as connected (waiting would spin on the level-triggered
        // HUP); the first read then reports the EOF or error.
        let id = ConnectionID(slot: UInt32(slot), generation: table[slot].generation)
        table[slot].kind = .connected
        if let timer = table[slot].connectTimer {
            timers.cancel(timer)
            table[slot].connectTimer = nil
        }
        if !table[slot].writes.isEmpty { table[slot].writesBlocked = true }
        guard updateInterest(slot: slot) else { return }
        if table[slot].closeAfterFlush && table[slot].writes.isEmpty {
            closeConnection(slot: slot, reason: .closedLocally)
            return
        }
        // Copy the handler out first: a callback that closes this connection mutates `table`.
        let handler = table[slot].connectionHandler
        handler?.connectionDidOpen(id)
    }

    func handleConnectionEvent(slot: Int, _ readiness: Readiness) {
        let id = ConnectionID(slot: UInt32(slot), generation: table[slot].generation)
        // HUP and ERR come whatever the interest: a read collects the EOF or the error.
        if (readiness.isReadable || readiness.isHangUp || readiness.isError) && !table[slot].isPaused {
            readAvailable(slot: slot, id: id)
            guard liveSlot(id) != nil else { return }
        }
        if (readiness.isWritable || readiness.isError) && !table[slot].writes.isEmpty {
            flushWrites(slot: slot, id: id)
            guard liveSlot(id) != nil else { return }
        }
        if (readiness.isHangUp || readiness.isError) && table[slot].isPaused {
            // Paused, so nothing read the EOF/error. With EPOLLIN off epoll still reports HUP/ERR every turn;
            // an error closes now, a hang-up leaves epoll until resumeReading reads the remaining bytes and EOF
            // (testPausedHangUpDoesNotSpin).
            if readiness.isError, let code = try? system.pendingError(table[slot].fd), code != 0 {
                closeConnection(slot: slot, reason: .error(SystemError(Errno(rawValue: code), operation: "socket")))
                return
            }
            if table[slot].registered != nil {
                try? selector.deregister(table[slot].fd)
                table[slot].registered = nil
            }
        }
    }

    /// Up to `maxReadsPerEvent` reads into the shared buffer, each handed to the handler.
    private func readAvailable(slot: Int, id: ConnectionID) {
        let fd = table[slot].fd
        for _ in 0..<configuration.maxReadsPerEvent {
            let result: IOResult<Int>
            do {
                result = try system.read(fd, receiveBuffer)
            } catch {
                closeConnection(slot: slot, reason: .error(error))
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .done(0):
                closeConnection(slot: slot, reason: .eof)
                return
            case .done(let count):
                let handler = table[slot].connectionHandler
                handler?.connection(id, didRead: UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<count]))
                // The handler may have closed or paused this connection.
                guard liveSlot(id) != nil, !table[slot].isPaused else { return }
                if count < receiveBuffer.count { return }  // drained; level-triggered epoll calls again if not
            }
        }
    }

    private func flushWrites(slot: Int, id: ConnectionID) {
        let fd = table[slot].fd
        while true {
            let result: IOResult<Bool>
            do {
                result = try table[slot].writes.flush(fd: fd, iovecs: iovecs, system: system)
            } catch {
                closeConnection(slot: slot, reason: .error(error))
                return
            }
            guard case .done(let empty) = result else { return }  // kernel full: EPOLLOUT stays armed
            if empty { break }
        }
        guard updateInterest(slot: slot) else { return }
        if table[slot].closeAfterFlush {
            closeConnection(slot: slot, reason: .closedLocally)
            return
        }
        if table[slot].writesBlocked {
            table[slot].writesBlocked = false
            let handler = table[slot].connectionHandler
            handler?.connectionDidDrainWrites(id)
        }
    }
}
