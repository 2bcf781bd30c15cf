import TestSupport
import XCTest
@testable import DanmuClient

final class PacketTests: XCTestCase {
    func testHeartbeatIsSixteenBytesWithEmptyBody() {
        XCTAssertEqual(Packet.heartbeat(), [0, 0, 0, 16, 0, 16, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1])
    }

    func testEncodeMatchesBrowserHeartbeatCapture() {
        let capture = TestFiles.mustRead("Fixtures/captures/bac_2022-07_c2s_op2_heartbeat.bin")
        let encoded = Packet.encode(.heartbeat, body: Array("[object Object]".utf8))
        XCTAssertEqual(encoded, capture)
    }

    func testHeaderRoundTrip() {
        let header = PacketHeader(
            length: 0x0102_0304, headerLength: 16, protover: 3, operation: .message, sequence: 0xDEAD_BEEF)
        XCTAssertEqual(header.bytes, [1, 2, 3, 4, 0, 16, 0, 3, 0, 0, 0, 5, 0xDE, 0xAD, 0xBE, 0xEF])
        XCTAssertEqual(PacketHeader(parsing: header.bytes), header)
        XCTAssertNil(PacketHeader(parsing: Array(header.bytes.prefix(15))))
    }

    func testAuthPacketHeaderAndBody() throws {
        let body = AuthBody(uid: 160_148_624, roomID: 22_608_112, key: "tok\"en", buvid: "B-1infoc")
        let packet = Packet.auth(body)
        let header = try XCTUnwrap(PacketHeader(parsing: packet))
        XCTAssertEqual(Int(header.length), packet.count)
        XCTAssertEqual(header.operation, .auth)
        XCTAssertEqual(header.protover, 1)
        XCTAssertEqual(header.sequence, 1)
        XCTAssertEqual(
            String(decoding: packet[16...], as: UTF8.self),
            #"{"uid":160148624,"roomid":22608112,"protover":3,"platform":"web","type":2,"key":"tok\"en","buvid":"B-1infoc"}"#
        )
    }

    func testAuthBodyEscapesControlCharacters() {
        let body = AuthBody(roomID: 1, protover: 2, key: "a\u{1}\n\\", buvid: "")
        XCTAssertEqual(
            String(decoding: body.jsonBytes(), as: UTF8.self),
            #"{"uid":0,"roomid":1,"protover":2,"platform":"web","type":2,"key":"a\u0001\n\\","buvid":""}"#)
    }

    func testCapturedAuthPacketHasTheSameHeaderShape() throws {
        let capture = TestFiles.mustRead("Fixtures/captures/bac_2021-09_c2s_op7_auth_protover3.bin")
        let header = try XCTUnwrap(PacketHeader(parsing: capture))
        XCTAssertEqual(Int(header.length), capture.count)
        XCTAssertEqual(header, PacketHeader(length: header.length, protover: 1, operation: .auth, sequence: 1))
    }

    func testHeartbeatReplyPutsEchoOutsideTheLength() throws {
        let reply = Packet.heartbeatReply(popularity: 2466, echo: Array("[object Object]".utf8))
        XCTAssertEqual(reply, TestFiles.mustRead("Fixtures/captures/bac_2022-07_s2c_op3_heartbeat_reply_with_echo.bin"))
    }

    func testUnknownOperationSurvives() {
        let op = Operation(rawValue: 1234)
        XCTAssertTrue(op.isPlausible)
        XCTAssertFalse(Operation(99_999).isPlausible)
        XCTAssertEqual(op.description, "op(1234)")
    }
}

final class AuthBodyTests: XCTestCase {
    func testRoundTrip() throws {
        let body = AuthBody(uid: 5, roomID: 22_608_112, protover: 2, key: "k\"\\\u{7}", buvid: "b")
        XCTAssertEqual(try AuthBody(parsing: body.jsonBytes()), body)
    }

    func testParsesCapturedAuthPackets() throws {
        let v3 = TestFiles.mustRead("Fixtures/captures/bac_2021-09_c2s_op7_auth_protover3.bin")
        let body3 = try AuthBody(parsing: Array(v3[16...]))
        XCTAssertEqual(body3.uid, 160_148_624)
        XCTAssertEqual(body3.roomID, 22_608_112)
        XCTAssertEqual(body3.protover, 3)
        XCTAssertEqual(body3.platform, "web")
        XCTAssertEqual(body3.type, 2)
        XCTAssertFalse(body3.key.isEmpty)
        let v2 = TestFiles.mustRead("Fixtures/captures/sunkey_2021-01_c2s_op7_auth_protover2.bin")
        let body2 = try AuthBody(parsing: Array(v2[16...]))
        XCTAssertEqual(body2.roomID, 21_463_235)
        XCTAssertEqual(body2.protover, 2)
    }

    func testRejectsGarbageAndMissingRoom() {
        XCTAssertThrowsError(try AuthBody(parsing: Array("[object Object]".utf8)))
        XCTAssertThrowsError(try AuthBody(parsing: Array(#"{"uid":1}"#.utf8)))
        XCTAssertThrowsError(try AuthBody(parsing: Array(#"[1]"#.utf8)))
    }
}
