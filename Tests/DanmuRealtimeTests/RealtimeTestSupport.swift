import DanmuClient
import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// Runs a Python script (`python3 -c`) with arguments; fails the test with its output when it does not exit 0.
@discardableResult
func python(
    _ script: String, _ arguments: [String] = [], timeout: Duration = .seconds(30), file: StaticString = #filePath,
    line: UInt = #line
) -> String {
    let result = runProcess(["python3", "-c", script] + arguments, timeout: timeout)
    XCTAssertEqual(result.status, 0, "python failed:\n\(result.output)", file: file, line: line)
    return result.output
}

/// A simulator on its own reactor, a collector reading it, and a `RealtimeServer` with its hub on a third
/// reactor: the whole realtime path in one process, torn down by `close()`.
final class RealtimeHarness {
    let simulatorReactor: Reactor
    let simulator: Simulator
    let collector: DanmuCollector
    let reactor: Reactor
    let hub: EventHub
    let server: RealtimeServer
    let port: UInt16

    init(
        rooms: [Int64] = [], ratePerRoom: Double = 20, hub hubConfiguration: EventHub.Configuration = .init(),
        configure: (inout RealtimeServer.Configuration) -> Void = { _ in }
    ) throws {
        simulatorReactor = try Reactor()
        try simulatorReactor.start()
        simulator = Simulator(
            reactor: simulatorReactor,
            configuration: .init(rooms: .range(1...1_000), ratePerRoom: ratePerRoom, mix: .danmakuOnly))
        let simulatorAddress = try simulator.start()
        var collectorConfiguration = DanmuCollector.Configuration(
            server: .init(host: "127.0.0.1", port: simulatorAddress.port), workers: 1)
        collectorConfiguration.timing.heartbeatInterval = .milliseconds(300)
        collector = try DanmuCollector(configuration: collectorConfiguration)
        reactor = try Reactor()
        try reactor.start()
        hub = EventHub(reactor: reactor, configuration: hubConfiguration)
        collector.setHandler(hub)
        var configuration = RealtimeServer.Configuration(address: .loopback(port: 0))
        configure(&configuration)
        server = RealtimeServer(reactor: reactor, collector: collector, hub: hub, configuration: configuration)
        port = try server.start().port
        try collector.start()
        collector.add(rooms: rooms)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func close() {
        server.close()
        hub.close()
        collector.shutdown()
        reactor.shutdown()
        simulator.stop()
        simulatorReactor.shutdown()
    }
}

/// An `HTTPServer` with a router of the test's own on a fresh reactor (no collector, no hub).
final class PlainHTTPServer {
    let reactor: Reactor
    let server: HTTPServer
    let port: UInt16

    init(limits: HTTPServer.Limits = .init(), routes: (HTTPRouter) -> Void) throws {
        reactor = try Reactor()
        try reactor.start()
        let router = HTTPRouter()
        routes(router)
        let server = HTTPServer(reactor: reactor, limits: limits, router: router)
        self.server = server
        let box = UncheckedBox(server)
        let result = reactor.executeAndWait { () -> Result<SocketAddress, SystemError> in
            do throws(SystemError) {
                return .success(try box.value.start(on: .loopback(port: 0)))
            } catch {
                return .failure(error)
            }
        }
        port = try XCTUnwrap(result).get().port
    }

    func statistics() -> HTTPServer.Statistics {
        let box = UncheckedBox(server)
        return reactor.executeAndWait { box.value.statistics } ?? .init()
    }

    func close() {
        let box = UncheckedBox(server)
        _ = reactor.executeAndWait { box.value.close() }
        reactor.shutdown()
    }
}

/// Carries a loop-confined object into a closure that runs on its loop.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A raw TCP client on 127.0.0.1 with blocking I/O and a receive timeout: for bytes no library would send.
final class RawClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, from `source` (another loopback address: 127.0.0.2 …) when given.
    init(port: UInt16, timeout: Duration = .seconds(5), source: String? = nil, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupFailure("socket failed") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &address.sin_addr)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                Glibc.close(fd)
                throw TestSetupFailure("bind to \(source) failed: errno \(errno)")
            }
        }
        var tv = timeval(tv_sec: Int(timeout / .seconds(1)), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connectToLoopback(fd, port: port) == 0 else {
            Glibc.close(fd)
            throw TestSetupFailure("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads until the peer closes, the receive timeout passes, or `until` holds for what was read.
    func read(until: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: received, as: UTF8.self), errno == ECONNRESET) }
            received += buffer[0..<count]
            if until(String(decoding: received, as: UTF8.self)) {
                return (String(decoding: received, as: UTF8.self), false)
            }
        }
    }
}
