import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// Issue 16: what a server sends instead of AUTH_REPLY (an HTTP 403, garbage) is an auth failure with a reason
/// that says what happened, not a "packet length" complaint.
final class AuthFailureFidelityTests: XCTestCase {
    static let forbidden = Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)

    func testDecoderReportsAnHTTPStatusLineSplitAnywhere() {
        var decoder = FrameDecoder()
        var thrown: ProtocolError?
        for byte in Self.forbidden {
            do throws(ProtocolError) {
                let frames = try decoder.feed([byte])
                XCTAssertTrue(frames.isEmpty)
            } catch {
                thrown = error
                break
            }
        }
        XCTAssertEqual(thrown, .httpResponse(statusLine: "HTTP/1.1 403 Forbidden"))
        XCTAssertEqual(
            thrown?.description, "the server answered HTTP 403 instead of the protocol: HTTP/1.1 403 Forbidden")
    }

    func testDecoderReportsAnEndlessHTTPLineAtItsLimit() {
        var decoder = FrameDecoder()
        let long = Array("HTTP/1.0 502 ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 400)
        XCTAssertThrowsError(try decoder.feed(long)) { error in
            guard case .httpResponse(let line) = error as? ProtocolError else { return XCTFail("\(error)") }
            XCTAssertEqual(line.utf8.count, FrameDecoder.httpLineLimit)
            XCTAssertTrue("\(error)".hasPrefix("the server answered HTTP 502 instead of the protocol"), "\(error)")
        }
    }

    func testProtocolErrorWhileAuthenticatingIsAnAuthFailure() {
        var timing = RoomTiming()
        timing.backoff = BackoffPolicy(initial: .seconds(1), maximum: .seconds(8), jitter: 0)
        var machine = RoomStateMachine(room: 5, resolutionEnabled: true, timing: timing)
        var now: Int64 = 1_000_000_000
        _ = machine.handle(.start, now: now, timing: timing)
        _ = machine.handle(.resolved(hostCount: 2), now: now, timing: timing)
        _ = machine.handle(.connected, now: now, timing: timing)
        let why = ProtocolError.httpResponse(statusLine: "HTTP/1.1 403 Forbidden").description
        let actions = machine.handle(.protocolError(why), now: now, timing: timing)
        let failure = RoomFailure.protocolError(why, beforeAuth: true)
        XCTAssertEqual(Array(actions.prefix(2)), [.close, .failed(failure)])
        XCTAssertTrue(failure.isAuthFailure)
        XCTAssertEqual(
            failure.description,
            "protocol error before AUTH_REPLY: the server answered HTTP 403 instead of the protocol: "
                + "HTTP/1.1 403 Forbidden")
        // An auth failure waits the doubled step and fetches a fresh token before the next attempt.
        guard case .setTimer(let deadline)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertEqual(deadline - now, Duration.seconds(2).nanoseconds)
        now = deadline
        XCTAssertEqual(
            machine.handle(.timer, now: now, timing: timing), [.cancelTimer, .reconnecting, .resolve(refresh: true)])
        XCTAssertFalse(RoomFailure.protocolError("absurd length").isAuthFailure, "a live connection's is not")
    }

    func testHTTP403AnswerToAuthIsCountedAsAuthFailureAndRetried() throws {
        let room = try collect(replies: [Self.forbidden, Packet.authReply(code: 0)])
        XCTAssertEqual(room.authFailures, 1, "\(room)")
        XCTAssertEqual(room.protocolErrors, 1)
        let reason = room.lastError?.description ?? "nil"
        XCTAssertTrue(
            reason.contains("the server answered HTTP 403 instead of the protocol: HTTP/1.1 403 Forbidden"), reason)
        XCTAssertFalse(reason.contains("packet length"), reason)
    }

    func testGarbageBeforeAuthReplyIsAnAuthFailure() throws {
        // A header whose header-length field is 0x0102: not the protocol, before any AUTH_REPLY.
        let garbage: [UInt8] =
            [0, 0, 0, 32, 0x01, 0x02, 0, 1, 0, 0, 0, 8, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 16)
        let room = try collect(replies: [garbage + Packet.authReply(code: 0), Packet.authReply(code: 0)])
        XCTAssertEqual(room.authFailures, 1, "\(room)")
        XCTAssertEqual(room.protocolErrors, 1)
        guard case .protocolError(let why, let beforeAuth)? = room.lastError else {
            return XCTFail("\(String(describing: room.lastError))")
        }
        XCTAssertTrue(beforeAuth)
        XCTAssertTrue(why.contains("header length 258"), why)
    }

    /// Runs one room against a server answering with `replies` until the room is live again; its statistics.
    private func collect(replies: [[UInt8]]) throws -> RoomStatistics {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let server = ScriptedServer(reactor: reactor, scripts: replies)
        let port = try server.listen()
        let collector = try DanmuCollector(
            configuration: testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)))
        defer { collector.shutdown() }
        try collector.start()
        collector.add(room: 16)
        XCTAssertTrue(
            waitUntil {
                collector.statistics()[room: 16]?.phase == .live && server.accepted.load(ordering: .relaxed) == 2
            },
            "\(collector.statistics().rooms)")
        return try XCTUnwrap(collector.statistics()[room: 16])
    }
}
