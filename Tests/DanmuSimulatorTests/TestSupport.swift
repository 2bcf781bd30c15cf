import Foundation
import TestSupport
import XCTest
@testable import DanmuSimulator
import DanmuClient

/// The committed fixture at Fixtures/`relativePath`; throws when it is missing.
func fixtureBytes(_ relativePath: String) throws -> [UInt8] {
    try XCTUnwrap(TestFiles.read("Fixtures/" + relativePath), "missing fixture Fixtures/\(relativePath)")
}

/// Reference JSON parser for checking what the simulator generates.
func parseJSON(_ bytes: some Collection<UInt8>) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

/// Splits a byte stream into (header, body) packets with the protocol branch's decoder.
func splitPackets(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [Frame] {
    var decoder = FrameDecoder()
    let frames = try decoder.feed(bytes)
    XCTAssertEqual(decoder.bufferedByteCount, 0, "trailing partial packet", file: file, line: line)
    return frames
}

/// The DANMU_MSG fields the tests look at, decoded with Foundation.
struct DecodedDanmaku {
    var text: String
    var content: String
    var id: SimulatedMessageID
    var idStr: String
    var sendMs: Int64
    var uid: Int64
    var uname: String

    init(body: some Collection<UInt8>) throws {
        let root = try XCTUnwrap(try parseJSON(body) as? [String: Any])
        XCTAssertEqual(root["cmd"] as? String, "DANMU_MSG")
        let info = try XCTUnwrap(root["info"] as? [Any])
        let meta = try XCTUnwrap(info[0] as? [Any])
        text = try XCTUnwrap(info[1] as? String)
        sendMs = try XCTUnwrap((meta[4] as? NSNumber)?.int64Value)
        let user = try XCTUnwrap(info[2] as? [Any])
        uid = try XCTUnwrap((user[0] as? NSNumber)?.int64Value)
        uname = try XCTUnwrap(user[1] as? String)
        let mode = try XCTUnwrap(meta[15] as? [String: Any])
        let extraText = try XCTUnwrap(mode["extra"] as? String)
        let extra = try XCTUnwrap(try parseJSON(Array(extraText.utf8)) as? [String: Any])
        content = try XCTUnwrap(extra["content"] as? String)
        idStr = try XCTUnwrap(extra["id_str"] as? String)
        id = try XCTUnwrap(SimulatedMessageID(idStr: idStr))
        let modeUser = try XCTUnwrap(mode["user"] as? [String: Any])
        XCTAssertEqual((modeUser["uid"] as? NSNumber)?.int64Value, uid)
    }
}
