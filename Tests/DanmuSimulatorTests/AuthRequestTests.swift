import XCTest
@testable import DanmuSimulator
import DanmuClient

final class AuthRequestTests: XCTestCase {
    func testAcceptsWhatOurClientSends() throws {
        let body = AuthBody(uid: 5, roomID: 21_463_235, protover: 3, key: "tok", buvid: "b").jsonBytes()
        XCTAssertEqual(
            try AuthRequest.parse(body, requiredKey: "tok").get(),
            AuthRequest(roomID: 21_463_235, protover: 3, uid: 5, key: "tok"))
    }

    func testAcceptsTheCapturedBrowserAuth() throws {
        // ver1 op7 captures (2021): protover 2 with clientver, and protover 3.
        for (file, protover) in [
            ("captures/sunkey_2021-01_c2s_op7_auth_protover2.bin", 2),
            ("captures/bac_2021-09_c2s_op7_auth_protover3.bin", 3),
        ] {
            let packet = try fixtureBytes(file)
            let request = try AuthRequest.parse(Array(packet[16...]), requiredKey: nil).get()
            XCTAssertEqual(request.protover, protover, file)
            XCTAssertGreaterThan(request.roomID, 0)
            XCTAssertNotNil(request.key)
        }
    }

    func testMissingProtoverMeansPlain() throws {
        XCTAssertEqual(try AuthRequest.parse(Array(#"{"roomid":1}"#.utf8), requiredKey: nil).get().protover, 0)
    }

    func testRejections() {
        func reject(_ text: String, key: String? = nil) -> AuthRequest.Rejection? {
            if case .failure(let why) = AuthRequest.parse(Array(text.utf8), requiredKey: key) { return why }
            return nil
        }
        if case .notJSON = reject(#"{"roomid":1"#) {} else { XCTFail("truncated JSON") }
        if case .notJSON = reject("[object Object]") {} else { XCTFail("not JSON") }
        XCTAssertEqual(reject("[1,2]"), .notAnObject)
        XCTAssertEqual(reject(#"{"uid":0}"#), .missingRoomID)
        XCTAssertEqual(reject(#"{"roomid":"12"}"#), .missingRoomID, "roomid must be a number")
        XCTAssertEqual(reject(#"{"roomid":12,"protover":4}"#), .unsupportedProtover(4, room: 12))
        XCTAssertEqual(reject(#"{"roomid":12,"protover":"3"}"#), .unsupportedProtover(-1, room: 12))
        XCTAssertEqual(reject(#"{"roomid":12,"protover":3}"#, key: "k"), .wrongKey(room: 12))
        XCTAssertEqual(reject(#"{"roomid":12,"protover":3,"key":"x"}"#, key: "k"), .wrongKey(room: 12))
        XCTAssertNil(reject(#"{"roomid":12,"protover":3,"key":"k"}"#, key: "k"))
    }

    func testCompressionForProtover() {
        XCTAssertEqual(Compression(protover: 0), Compression.none)
        XCTAssertEqual(Compression(protover: 1), .zlib, "issue 16: the live server answers protover 1 with zlib")
        XCTAssertEqual(Compression(protover: 2), .zlib)
        XCTAssertEqual(Compression(protover: 3), .brotli)
        XCTAssertNil(Compression(protover: 4))
        XCTAssertNil(Compression(protover: -1))
    }
}
