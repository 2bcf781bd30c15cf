import XCTest
@testable import DanmuSimulator
import DanmuClient

final class ServerPacketsTests: XCTestCase {
    func testAuthReplyMatchesCapture() throws {
        XCTAssertEqual(ServerPackets.authReply, try fixtureBytes("captures/bac_2023-01_s2c_op8_auth_reply.bin"))
    }

    func testHeartbeatReplyWithEchoMatchesCapture() throws {
        let reply = ServerPackets.heartbeatReply(popularity: 2466, echo: Array("[object Object]".utf8))
        XCTAssertEqual(reply, try fixtureBytes("captures/bac_2022-07_s2c_op3_heartbeat_reply_with_echo.bin"))
        XCTAssertEqual(PacketHeader(parsing: reply)?.length, 20, "the echo stays outside the declared length")
    }

    func testGarbageAndAbsurdHeadersAreRejectedByTheClientDecoder() {
        var decoder = FrameDecoder()
        XCTAssertThrowsError(try decoder.feed(ServerPackets.garbageHeader))
        var decoder2 = FrameDecoder()
        XCTAssertThrowsError(try decoder2.feed(ServerPackets.absurdLength))
        XCTAssertEqual(PacketHeader(parsing: ServerPackets.absurdLength)?.length, 0xFFFF_FFFF)
    }

    func testBeginFinishPatchesLength() throws {
        var out: [UInt8] = [1, 2, 3]
        let start = Packet.begin(.message, protover: 0, sequence: 0, in: &out)
        out.append(contentsOf: Array("{}".utf8))
        Packet.finish(startingAt: start, in: &out)
        let header = try XCTUnwrap(PacketHeader(parsing: Array(out[3...])))
        XCTAssertEqual(header, PacketHeader(length: 18, protover: 0, operation: .message, sequence: 0))
    }
}
