import EventLoop
import Synchronization
import XCTest

/// A scripted loopback server: the n-th accepted connection gets `scripts[n]` (the last one for every later
/// connection) written right after the client's first bytes (its AUTH). Loop-confined on the test's own reactor.
final class ScriptedServer: ListenerHandler, @unchecked Sendable {
    final class Connection: ConnectionHandler {
        let server: ScriptedServer
        let script: [UInt8]
        var sent = false
        init(server: ScriptedServer, script: [UInt8]) {
            self.server = server
            self.script = script
        }
        func connectionDidOpen(_ connection: ConnectionID) {}
        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            guard !sent else { return }
            sent = true
            server.reactor.write(connection, script)
        }
        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {}
    }

    let reactor: Reactor
    let scripts: [[UInt8]]
    /// Connections accepted so far.
    let accepted = Atomic<Int>(0)

    init(reactor: Reactor, scripts: [[UInt8]]) {
        precondition(!scripts.isEmpty)
        self.reactor = reactor
        self.scripts = scripts
    }

    func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
        -> any ConnectionHandler
    {
        let index = accepted.add(1, ordering: .relaxed).oldValue
        return Connection(server: self, script: scripts[min(index, scripts.count - 1)])
    }

    /// Listens on a loopback port of `reactor`; returns the port.
    func listen() throws -> UInt16 {
        let reactor = self.reactor
        let result: Result<SocketAddress, SystemError>? = reactor.executeAndWait {
            do throws(SystemError) {
                let listener = try reactor.listen(on: SocketAddress.loopback(port: 0), handler: self)
                return .success(reactor.localAddress(of: listener)!)
            } catch {
                return .failure(error)
            }
        }
        return try XCTUnwrap(result).get().port
    }
}
