import Glibc
import TestSupport
import XCTest
import DanmuClient
@testable import DanmuSimulator

/// A deliberately simple blocking client (plain Glibc sockets, no reactor) to test the simulator from outside.
final class TestClient {
    let fd: Int32
    var decoder = FrameDecoder()
    /// Sizes of the recv() results so far (tinyWrites check).
    var readSizes: [Int] = []
    private(set) var sawEOF = false

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestClientError.system("socket", errno) }
        let result = connectToLoopback(fd, port: port)
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError.system("connect", code)
        }
    }

    deinit { Glibc.close(fd) }

    func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    func sendAuth(room: Int64, protover: Int = 0, key: String = "") {
        sendRaw(Packet.auth(AuthBody(roomID: room, protover: protover, key: key, buvid: "test-buvid")))
    }

    func sendHeartbeat(body: [UInt8] = []) {
        sendRaw(Packet.encode(.heartbeat, body: body))
    }

    /// Reads once, waiting at most `timeout` seconds. Returns the bytes (empty on timeout), nil on EOF/reset.
    func readOnce(timeout: Double) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        if ready <= 0 { return [] }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 {
            sawEOF = true
            return nil
        }
        readSizes.append(n)
        return Array(buffer[..<n])
    }

    /// Reads frames until `done` says stop, EOF, or `timeout` seconds pass. Throws the decoder's error.
    func readFrames(timeout: Double = 10, until done: ([Frame]) -> Bool) throws -> [Frame] {
        var frames: [Frame] = []
        let deadline = SimulatedMessageID.monotonicNow() + UInt64(timeout * 1e9)
        while !done(frames) {
            let now = SimulatedMessageID.monotonicNow()
            guard now < deadline else { break }
            guard let bytes = readOnce(timeout: Double(deadline - now) / 1e9) else { break }
            let new = try decoder.feed(bytes)
            // op-5 frames that came along (e.g. in the same read as op 8) are kept for readMessages/received.
            for frame in new where frame.header.operation == .message { received += try InnerMessage.open(frame) }
            frames += new
        }
        return frames
    }

    /// Every op-5 message received so far (batches opened), including those before a decoder error.
    private(set) var received: [InnerMessage] = []

    /// Reads until `count` more op-5 messages arrived (batches are opened), or EOF/timeout; returns them.
    /// A protocol error is thrown after the messages before it were recorded in `received`.
    func readMessages(_ count: Int, timeout: Double = 10) throws -> [InnerMessage] {
        let start = received.count
        let deadline = SimulatedMessageID.monotonicNow() + UInt64(timeout * 1e9)
        while received.count - start < count {
            let now = SimulatedMessageID.monotonicNow()
            guard now < deadline else { break }
            guard let bytes = readOnce(timeout: Double(deadline - now) / 1e9) else { break }
            var frames: [Frame] = []
            var failure: Error?
            bytes.withUnsafeBytes { raw in
                do throws(ProtocolError) { try decoder.feed(raw) { frames.append($0) } } catch { failure = error }
            }
            for frame in frames where frame.header.operation == .message { received += try InnerMessage.open(frame) }
            if let failure { throw failure }
        }
        return Array(received[start...])
    }

    /// Waits for EOF, discarding data; true if the peer closed within `timeout`.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = SimulatedMessageID.monotonicNow() + UInt64(timeout * 1e9)
        while SimulatedMessageID.monotonicNow() < deadline {
            if readOnce(timeout: 0.05) == nil { return true }
        }
        return false
    }
}

enum TestClientError: Error { case system(String, Int32), badBatch(String) }

/// One op-5 message after opening batches: the (inner) header's protover of the outer packet and the JSON body.
struct InnerMessage {
    var outerProtover: UInt16
    var body: [UInt8]

    /// The message's cmd; a body that is not a JSON object with a string "cmd" is a test failure (and nil).
    var cmd: String? {
        do {
            if let cmd = try (parseJSON(body) as? [String: Any])?["cmd"] as? String { return cmd }
            XCTFail("message without a string cmd: \(String(decoding: body.prefix(200), as: UTF8.self))")
        } catch {
            XCTFail("message is not JSON (\(error)): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return nil
    }

    /// The decoded danmaku when this is a DANMU_MSG; a DANMU_MSG that does not decode is a test failure (and nil),
    /// never silently dropped from the sequence a test checks.
    var danmaku: DecodedDanmaku? {
        guard cmd == "DANMU_MSG" else { return nil }
        do {
            return try DecodedDanmaku(body: body)
        } catch {
            XCTFail("malformed DANMU_MSG (\(error)): \(String(decoding: body.prefix(300), as: UTF8.self))")
            return nil
        }
    }

    static func open(_ frame: Frame) throws -> [InnerMessage] {
        switch frame.header.protover {
        case 0: return [InnerMessage(outerProtover: 0, body: frame.body)]
        case 2, 3:
            let inner = try decompress(frame.body, protover: frame.header.protover)
            return try splitPackets(inner).map { packet in
                XCTAssertEqual(packet.header.protover, 0)
                XCTAssertEqual(packet.header.operation, .message)
                return InnerMessage(outerProtover: frame.header.protover, body: packet.body)
            }
        default: throw TestClientError.badBatch("ver \(frame.header.protover)")
        }
    }
}
