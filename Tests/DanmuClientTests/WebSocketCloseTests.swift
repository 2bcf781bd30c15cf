import EventLoop
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import DanmuClient

/// A loopback ws server (blocking sockets, one thread) that upgrades every connection, optionally answers AUTH
/// with op 8 `{"code":0}`, then sends a close frame with a fixed code and reason: what a live server does when
/// it turns a client away (1008 from risk control, 1001 when a node drains).
private final class ClosingWebSocketServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private var thread: PosixThread?
    // Read by the server thread, written once by the test thread before `shutdown` wakes `accept`.
    private let stopped = Atomic<Bool>(false)

    init(code: UInt16?, reason: String, answerAuth: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            if fd >= 0 { close(fd) }
            throw LoopbackSocket.SocketError(description: "cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        thread = try PosixThread.spawn(name: "ws-close-server") { [self] in
            while !stopped.load(ordering: .acquiring) {
                let client = accept(fd, nil, nil)
                if client < 0 { break }
                Self.serve(client, code: code, reason: reason, answerAuth: answerAuth)
                close(client)
            }
        }
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        shutdown(listener, Int32(SHUT_RDWR))
        thread?.join()
        thread = nil
        close(listener)
    }

    /// One connection: the 101 for the client's key, [AUTH_REPLY after its AUTH], the close frame, then wait
    /// (bounded) for the client's close echo or end of stream.
    private static func serve(_ fd: Int32, code: UInt16?, reason: String, answerAuth: Bool) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        while request.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            let chunk = receive(fd)
            if chunk.isEmpty { return }
            request += chunk
        }
        let text = String(decoding: request, as: UTF8.self)
        guard
            let keyLine = text.split(separator: "\r\n").first(where: {
                $0.lowercased().hasPrefix("sec-websocket-key:")
            })
        else { return }
        let key = keyLine.dropFirst("sec-websocket-key:".count).trimmingPrefix(" ")
        let response =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: String(key)))\r\n\r\n"
        var encoder = WebSocketFrameEncoder(masks: false)
        var out = Array(response.utf8)
        if answerAuth {
            send(fd, out)
            out = []
            if receive(fd).isEmpty { return }  // the client's AUTH (op 7) frame
            let body = Array(#"{"code":0}"#.utf8)
            var packet: [UInt8] = []
            for (value, width) in [(16 + body.count, 4), (16, 2), (1, 2), (8, 4), (1, 4)] {
                for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
                    packet.append(UInt8(value >> shift & 0xFF))
                }
            }
            encoder.encode(.binary, payload: packet + body, into: &out)
        }
        encoder.encodeClose(WebSocketClose(code: code.map { WebSocketCloseCode($0) }, reason: reason), into: &out)
        send(fd, out)
        while !receive(fd).isEmpty {}
    }

    private static func receive(_ fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// When the server closes the WebSocket, the room's `lastError` names the close code, its meaning and the
/// reason, not just "closed by the server"; before AUTH_REPLY it counts as an auth failure, like a TCP close.
final class WebSocketCloseTests: XCTestCase {
    private func firstFailure(code: UInt16?, reason: String, answerAuth: Bool) throws -> RoomStatistics {
        let server = try ClosingWebSocketServer(code: code, reason: reason, answerAuth: answerAuth)
        defer { server.stop() }
        var settings = testCollectorConfiguration(server: .init(host: "127.0.0.1", port: 1, wsPort: server.port))
        settings.transport = .ws
        // Every connection is closed the same way, so whichever failure is the last one names the close.
        let collector = try DanmuCollector(configuration: settings)
        try collector.start()
        collector.add(rooms: [42])
        let failed = waitUntil(timeout: .seconds(15)) { (collector.statistics()[room: 42]?.errors ?? 0) >= 2 }
        let statistics = collector.statistics()
        collector.shutdown()
        XCTAssertTrue(failed, errorSummary(statistics))
        return try XCTUnwrap(statistics[room: 42])
    }

    func testLiveRoomClosedWith1008NamesTheCodeAndReason() throws {
        let room = try firstFailure(code: 1008, reason: "too many connections", answerAuth: true)
        XCTAssertEqual(room.lastError, .webSocketClosed(code: 1008, reason: "too many connections", beforeAuth: false))
        XCTAssertEqual(
            room.lastError?.description, #"server closed the WebSocket: 1008 policy violation "too many connections""#)
        XCTAssertEqual(room.authFailures, 0, "closed after AUTH_REPLY: not an auth failure")
    }

    func testCloseBeforeAuthReplyIsAnAuthFailureWithTheCode() throws {
        let room = try firstFailure(code: 4001, reason: "", answerAuth: false)
        XCTAssertEqual(room.lastError, .webSocketClosed(code: 4001, reason: "", beforeAuth: true))
        XCTAssertEqual(room.lastError?.description, "server closed the WebSocket: 4001 before AUTH_REPLY")
        XCTAssertEqual(room.authFailures, room.errors, "every close came before AUTH_REPLY")
    }

    func testCloseWithoutAStatusCodeSaysSo() throws {
        let room = try firstFailure(code: nil, reason: "", answerAuth: true)
        XCTAssertEqual(room.lastError, .webSocketClosed(code: nil, reason: "", beforeAuth: false))
        XCTAssertEqual(room.lastError?.description, "server closed the WebSocket: no status code")
    }

    func testControlBytesInTheReasonAreEscaped() {
        let failure = RoomFailure.webSocketClosed(code: 1001, reason: "node\ndraining", beforeAuth: false)
        XCTAssertEqual(failure.description, #"server closed the WebSocket: 1001 going away "node\xadraining""#)
    }
}
