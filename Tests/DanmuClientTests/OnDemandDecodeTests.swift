import DanmuCodecs
import TestSupport
import XCTest
@testable import DanmuClient

/// Issue 11: `DANMU_MSG`, `INTERACT_WORD` and `SEND_GIFT` are read on demand (`DanmakuOnDemand`,
/// `InteractOnDemand`, `GiftOnDemand`), every other message by the strict full parser.
/// The two must give the same events (or the same rejection) on every message we have: the samples, the bodies
/// inside the captures, and damaged copies of them; and the on-demand path must actually be the one taken.
final class OnDemandDecodeTests: XCTestCase {
    /// `parse` (on-demand where it decides) against `parseFully` (strict only): equal events, or both reject.
    private func assertSameAsStrict(
        _ body: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        var fast: [DanmuEvent] = []
        var strict: [DanmuEvent] = []
        let fastError = Result { () throws(ProtocolError) in try EventParser.parse(message: body, into: &fast) }
        let strictError = body.withUnsafeBytes { raw in
            Result { () throws(ProtocolError) in try EventParser.parseFully(message: raw, into: &strict) }
        }
        switch (fastError, strictError) {
        case (.success, .success): XCTAssertEqual(fast, strict, label, file: file, line: line)
        case (.failure, .failure): break
        default: XCTFail("\(label): on-demand \(fastError), strict \(strictError)", file: file, line: line)
        }
    }

    /// Whether the on-demand reader decides `body` by itself (not handing it to the strict parser).
    private func decidedOnDemand(_ body: [UInt8]) -> Bool {
        body.withUnsafeBytes { raw in
            guard let json = JSONOnDemand(raw) else { return false }
            return EventParser.parseOnDemand(json) != nil
        }
    }

    static func sampleBodies() -> [(String, [UInt8])] {
        var bodies: [(String, [UInt8])] = []
        for directory in ["Fixtures/samples", "/work/shared/fixtures/samples"] {
            for file in TestFiles.list(directory) where file.hasSuffix(".json") && !file.hasPrefix("http_") {
                bodies.append(("\(directory)/\(file)", TestFiles.mustRead("\(directory)/\(file)")))
            }
        }
        return bodies
    }

    /// The op 5 JSON bodies inside the recorded server→client captures (zlib and brotli batches unpacked).
    static func captureBodies() throws -> [(String, [UInt8])] {
        var bodies: [(String, [UInt8])] = []
        for directory in ["Fixtures/captures", "/work/shared/fixtures/captures"] {
            for file in TestFiles.list(directory) where file.hasSuffix(".bin") && file.contains("_s2c_op5") {
                var decoder = FrameDecoder()
                for frame in try decoder.feed(TestFiles.mustRead("\(directory)/\(file)")) {
                    try frame.body.withUnsafeBytes { body in
                        try collect(protover: frame.header.protover, body: body, "\(directory)/\(file)", &bodies)
                    }
                }
            }
        }
        return bodies
    }

    private static func collect(
        protover: UInt16, body: UnsafeRawBufferPointer, _ label: String, _ bodies: inout [(String, [UInt8])]
    ) throws {
        switch protover {
        case 0, 1: bodies.append((label, Array(body)))
        case 2, 3:
            let batch =
                protover == 2
                ? try MessageDecoder.inflateZlib(body, limit: 1 << 24)
                : try MessageDecoder.decodeBrotli(body, limit: 1 << 24)
            var inner = FrameDecoder()
            for frame in try inner.feed(batch) {
                try frame.body.withUnsafeBytes {
                    try collect(protover: frame.header.protover, body: $0, label, &bodies)
                }
            }
        default: break
        }
    }

    func testEverySampleAndCaptureDecodesAsTheStrictParserDoes() throws {
        let bodies = Self.sampleBodies() + (try Self.captureBodies())
        XCTAssertGreaterThanOrEqual(bodies.count, 60)
        var danmaku = 0
        for (label, body) in bodies {
            assertSameAsStrict(body, label)
            if decidedOnDemand(body) { danmaku += 1 }
        }
        // The DANMU_MSG, INTERACT_WORD and SEND_GIFT samples and the captured ones all take the fast path.
        XCTAssertGreaterThanOrEqual(danmaku, 20, "on-demand path taken for \(danmaku) messages")
    }

    func testEveryDanmakuFixtureIsDecidedOnDemand() {
        for (label, body) in Self.sampleBodies() where label.contains("/DANMU_MSG") {
            XCTAssertTrue(decidedOnDemand(body), label)
        }
    }

    /// Every prefix of every DANMU_MSG sample (truncated messages) and every single-byte damage at a spread of
    /// positions: the same event or the same rejection as the strict path.
    func testDamagedDanmakuDecodesAsTheStrictParserDoes() {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x5D, 0x7D, 0x30, 0x2E, 0x65, 0x00, 0xFF, 0xC3, 0x20, 0x3A]
        for (label, body) in Self.sampleBodies() where label.contains("/DANMU_MSG") && label.hasPrefix("Fixtures") {
            for cut in stride(from: 0, to: body.count, by: 1) {
                assertSameAsStrict(Array(body[..<cut]), "\(label) cut at \(cut)")
            }
            for position in stride(from: 0, to: body.count, by: 3) {
                var damaged = body
                damaged[position] = replacements[position % replacements.count]
                assertSameAsStrict(damaged, "\(label) byte \(position)")
            }
        }
    }

    func testEveryInteractAndGiftFixtureIsDecidedOnDemand() {
        var count = 0
        for (label, body) in Self.sampleBodies()
        where label.contains("/INTERACT_WORD.") || label.contains("/SEND_GIFT.") {
            XCTAssertTrue(decidedOnDemand(body), label)
            count += 1
        }
        XCTAssertGreaterThanOrEqual(count, 9)
    }

    /// Every prefix and a spread of single-byte damage of the INTERACT_WORD and SEND_GIFT samples: the same event
    /// or the same rejection as the strict path.
    func testDamagedInteractAndGiftDecodeAsTheStrictParserDoes() {
        let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x5D, 0x7D, 0x30, 0x2E, 0x65, 0x00, 0xFF, 0xC3, 0x20, 0x3A]
        for (label, body) in Self.sampleBodies()
        where (label.contains("/INTERACT_WORD.") || label.contains("/SEND_GIFT.")) && label.hasPrefix("Fixtures") {
            for cut in 0..<body.count { assertSameAsStrict(Array(body[..<cut]), "\(label) cut at \(cut)") }
            for position in stride(from: 0, to: body.count, by: 2) {
                var damaged = body
                damaged[position] = replacements[position % replacements.count]
                assertSameAsStrict(damaged, "\(label) byte \(position)")
            }
        }
    }

    /// Shapes of INTERACT_WORD and SEND_GIFT the fixtures do not have: fields absent, mistyped, duplicated,
    /// escaped, fractional; the camel/snake fallbacks; medals empty, partial, with a hex or numeric colour;
    /// `data` absent or not an object.
    func testUnusualInteractAndGiftShapes() {
        let shapes = [
            #"{"cmd":"INTERACT_WORD","data":{}}"#,
            #"{"cmd":"INTERACT_WORD","data":{"uid":"12","uname":"a***","msg_type":2,"msg_type":3}}"#,
            #"{"cmd":"INTERACT_WORD","data":{"uid":1.5,"uname":"x"}}"#,
            #"{"cmd":"INTERACT_WORD","data":{"uid":7,"fans_medal":{"medal_name":"","medal_level":0}}}"#,
            ##"{"cmd":"INTERACT_WORD","data":{"fans_medal":{"medal_name":"m","medal_color":"#1a544b","is_lighted":"1"}}}"##,
            #"{"cmd":"INTERACT_WORD","data":{"fans_medal":{"medal_level":3,"medal_color":"zz","target_id":"9"}}}"#,
            #"{"cmd":"INTERACT_WORD","data":{"fans_medal":[1,2],"roomid":5,"timestamp":-1}}"#,
            #"{"cmd":"INTERACT_WORD","data":{"\u0075id":3}}"#,
            #"{"cmd":"INTERACT_WORD","data":5}"#,
            #"{"cmd":"INTERACT_WORD"}"#,
            #"{"cmd":"INTERACT_WORD:1","data":{"msg_type":99,"uname":"\u00e9\\"}}"#,
            #"{"cmd":"INTERACT_WORD_V2","data":{"pb":""}}"#,
            #"{"cmd":"SEND_GIFT","data":{}}"#,
            #"{"cmd":"SEND_GIFT","data":{"gift_id":5,"giftId":null,"gift_name":"a","giftName":"b"}}"#,
            #"{"cmd":"SEND_GIFT","data":{"gift_id":5,"gift_name":"a","tid":1234567890123456789012,"batch_combo_id":""}}"#,
            #"{"cmd":"SEND_GIFT","data":{"tid":"","num":"3","price":1e2}}"#,
            #"{"cmd":"SEND_GIFT","data":{"tid":-1.5e3,"total_coin":100,"coin_type":"gold","action":"投喂"}}"#,
            #"{"cmd":"SEND_GIFT","data":{"tid":true,"blind_gift":{"original_gift_name":7}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"blind_gift":{"original_gift_name":"box","original_gift_name":"x"}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"blind_gift":"no","receive_user_info":{"uid":"42"}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"receive_user_info":{"uname":"u"},"receive_user_info":{"uid":1}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"receive_user_info":[],"medal_info":{"medal_name":"m","medal_color":6067854}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"guard_level":3,"uid":9,"uname":"n","timestamp":1700000000}} x"#,
            #"{"cmd":"SEND_GIFT","data":{"a":{"b":[{"c":"\ud83d\ude00"}]}}}"#,
            #"{"cmd":"SEND_GIFT","data":{"uname":"\ud83d"}}"#,
        ]
        for shape in shapes { assertSameAsStrict(Array(shape.utf8), shape) }
        XCTAssertTrue(decidedOnDemand(Array(shapes[1].utf8)), "duplicate keys: the first wins, on demand")
        XCTAssertFalse(decidedOnDemand(Array(shapes[2].utf8)), "a fraction read as an integer goes to the strict path")
        XCTAssertFalse(decidedOnDemand(Array(shapes[7].utf8)), "an escaped key goes to the strict path")
        XCTAssertTrue(decidedOnDemand(Array(shapes[14].utf8)), "a numeric tid beyond Int64 is text, on demand")
        XCTAssertTrue(decidedOnDemand(Array(shapes[16].utf8)), "a fractional tid is text, on demand")
    }

    /// Shapes the fixtures do not have: fields mistyped, duplicated, escaped, nested in `extra`, fractional numbers
    /// (those the reader hands to the strict path), keys in another order, whitespace.
    func testUnusualDanmakuShapes() {
        let shapes = [
            #"{"cmd":"DANMU_MSG","info":[[0,4,18,255,1700000000000,0,0,"abc",0,0,0,"",0,"{}",{},{"extra":"{\"id_str\":\"X1\",\"reply_mid\":\"42\",\"reply_uname\":\"bob\",\"content\":\"c\"}"}],"",[7,"u***",1],[3,"m","a",9,1,0,0,0,0,0,2,0,5],[12],"",0,1,null,{},0,0,null,null,0,7,[31]]}"#,
            #"{"cmd":"DANMU_MSG:4:0:2:2:2:0","info":[[0,1,25,1.5],"t",[1,"x"]]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,1,25,1e3],"t"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,"2","3","-4","5"],"\u00e9\ud83d\ude00",["9","n",true]]}"#,
            #"{"cmd":"DANMU_MSG","info":{"a":1}}"#,
            #"{"cmd":"DANMU_MSG","data":1}"#,
            #"{"cmd":"DANMU_MSG","info":[],"info":[[],"second"]}"#,
            #" { "cmd" : "DANMU_MSG" , "info" : [ [ 0 , 1 ] , "spaced" , [ 5 , "n" ] ] } "#,
            #"{"cmd":"DANMU_MSG","\u0069nfo":[[0],"escaped key"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,1,25,0,0,0,0,"",0,0,0,"",0,{"url":"u","url":"v","width":"3","height":4.0}],"s"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,1,25,0,0,0,0,"",0,0,0,"",0,{"url":1,"emoticon_unique":"e"}],"s"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,{"extra":"not json"}],"x"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,{"extra":""}],"x"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,{"extra":"[1,2]"}],"x"]}"#,
            #"{"cmd":"DANMU_MSG","info":[[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,{"extra":"{\"reply_mid\":0,\"id_str\":\"\"}"}],""]}"#,
            #"{"cmd":"DANMU_MSG","info":[[],"",[],[1],[],0,0,99999999999999999999]}"#,
            #"{"cmd":"DANMU_MSG","info":[[],"",[],[1,""],[]]}"#,
            #"{"cmd":"DANMU_MSG","info":[[],"",[],[1,"m"],[]]}"#,
            #"{"cmd":"DANMU_MSG_MIRROR","info":[[],"mirror"]} x"#,
            #"{"cmd":"DANMU_MSG_MIRROR","info":[[],"mirror"]}"#,
            #"{"cmd":"DANMU_MSGX","info":[[],"other cmd"]}"#,
        ]
        for shape in shapes { assertSameAsStrict(Array(shape.utf8), shape) }
        XCTAssertTrue(decidedOnDemand(Array(shapes[0].utf8)), "reply, medal, wealth, masked name on demand")
        XCTAssertFalse(decidedOnDemand(Array(shapes[1].utf8)), "a fraction read as an integer goes to the strict path")
        XCTAssertFalse(decidedOnDemand(Array(shapes[8].utf8)), "an escaped key goes to the strict path")
    }

    /// Regression (Fuzz/ondemand, `"\"tra"` as a key): skipping an object whose key is escaped rejected valid JSON,
    /// so validation by skipping disagreed with the strict parser and such messages left the on-demand path.
    func testAnEscapedKeyInASkippedObjectIsValidJSON() {
        let text = Array(#"{"cmd":"DANMU_MSG","info":[[0],"t",[1,"n"],[],[],0,0,0,0,{"\"tra":1,"\u0061":[]}]}"#.utf8)
        text.withUnsafeBytes { raw in
            let json = JSONOnDemand(raw)!
            XCTAssertTrue(json.isDocumentEnd(json.skipValue(json.rootStart, depth: 0)))
        }
        XCTAssertTrue(decidedOnDemand(text))
        assertSameAsStrict(text, "escaped keys in a skipped object")
    }

    /// `FrameBatch`: the packets of a read, one buffer, walked in place, give the frames `feed` cuts.
    func testFrameBatchWalksThePacketsTheDecoderCut() throws {
        var stream: [UInt8] = []
        for (index, body) in [#"{"cmd":"A"}"#, "", #"{"code":0}"#, String(repeating: "x", count: 3000)].enumerated() {
            stream += Packet.encode(index == 2 ? .authReply : .message, protover: 0, body: Array(body.utf8))
        }
        var reference = FrameDecoder()
        let frames = try reference.feed(stream)
        var cutter = FrameDecoder()
        var batches: [FrameBatch] = []
        // Reads of 7 bytes: every packet split across reads, the tail carried in the decoder.
        for start in stride(from: 0, to: stream.count, by: 7) {
            var batch = FrameBatch(capacityHint: 7 + cutter.bufferedByteCount)
            try Array(stream[start..<min(start + 7, stream.count)]).withUnsafeBytes { raw in
                try cutter.feedPackets(raw) { _, packet in batch.append(packet: packet) }
            }
            if !batch.isEmpty { batches.append(batch) }
        }
        var walked: [Frame] = []
        for batch in batches {
            batch.forEachPacket { header, body in walked.append(Frame(header: header, body: Array(body))) }
        }
        XCTAssertEqual(walked, frames)
        XCTAssertEqual(batches.reduce(0) { $0 + $1.wireLength }, stream.count)
    }
}
