import TestSupport
import XCTest
@testable import DanmuCodecs

final class ProtobufReaderTests: XCTestCase {
    private func readAll(_ bytes: [UInt8]) throws -> [ProtobufField] {
        var reader = ProtobufReader(bytes)
        var fields: [ProtobufField] = []
        while let field = try reader.next() { fields.append(field) }
        return fields
    }

    /// Built with Python (hand-rolled varint encoder, struct.pack for fixed values): int64 −1, uint 300,
    /// double 1.5, float −2.0, string "hello", packed [1, 150, 2^63], sint 12345 and −12345, the largest field
    /// number, and a nested message {1: 7, 2: true}.
    func testPythonGeneratedVector() throws {
        let bytes = Hex.decode(
            "08ffffffffffffffffff0110ac0219000000000000f83f25000000c02a0568656c6c6f320d0196018080808080"
                + "808080800138f2c00140f1c001f8ffffff0f014a0408071001")
        XCTAssertEqual(
            try Base64.decode(
                "CP///////////wEQrAIZAAAAAAAA+D8lAAAAwCoFaGVsbG8yDQGWAYCAgICAgICAgAE48sABQPHAAfj///8PAUoECAcQAQ=="),
            bytes)
        let fields = try readAll(bytes)
        XCTAssertEqual(fields.map(\.number), [1, 2, 3, 4, 5, 6, 7, 8, 536_870_911, 9])
        XCTAssertEqual(fields[0].int64, -1)
        XCTAssertEqual(fields[1].uint64, 300)
        guard case .fixed64(let d) = fields[2].value else { return XCTFail("fixed64") }
        XCTAssertEqual(Double(bitPattern: d), 1.5)
        guard case .fixed32(let f) = fields[3].value else { return XCTFail("fixed32") }
        XCTAssertEqual(Float(bitPattern: f), -2.0)
        XCTAssertEqual(fields[4].string, "hello")
        XCTAssertEqual(try fields[5].packedVarints(), [1, 150, 1 << 63])
        XCTAssertEqual(fields[6].sint64, 12345)
        XCTAssertEqual(fields[7].sint64, -12345)
        XCTAssertEqual(fields[8].bool, true)
        var nested = try XCTUnwrap(fields[9].message)
        XCTAssertEqual(try nested.next(), ProtobufField(number: 1, value: .varint(7)))
        XCTAssertEqual(try nested.next()?.bool, true)
        XCTAssertNil(try nested.next())
    }

    /// A real INTERACT_WORD_V2 `data.pb` (qydysky, 2025-07); field map in docs/protocol.md §11.2.
    func testInteractWordV2Sample() throws {
        let text = try XCTUnwrap(TestFiles.read("Fixtures/samples/INTERACT_WORD_V2.data.pb.qydysky-2025-07.b64.txt"))
        let trimmed = Array(text.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
        let bytes = try Base64.decode(trimmed)
        XCTAssertEqual(bytes.count, 324)
        var uid: Int64?, msgType: Int64?, room: Int64?, timestamp: Int64?, uname: String?, identities: [UInt64] = []
        var infoUID: Int64?, infoName: String?
        var reader = ProtobufReader(bytes)
        while let field = try reader.next() {
            switch field.number {
            case 1: uid = field.int64
            case 2: uname = field.string
            case 4: identities += try field.packedVarints()
            case 5: msgType = field.int64
            case 6: room = field.int64
            case 7: timestamp = field.int64
            case 22:
                var info = try XCTUnwrap(field.message)
                while let inner = try info.next() {
                    if inner.number == 1 { infoUID = inner.int64 }
                    if inner.number == 2, var base = inner.message {
                        while let b = try base.next() { if b.number == 1 { infoName = b.string } }
                    }
                }
            default: break
            }
        }
        XCTAssertEqual(uid, 689_754_432)
        XCTAssertEqual(msgType, 1)
        XCTAssertEqual(room, 92613)
        XCTAssertEqual(timestamp, 1_751_378_115)
        XCTAssertEqual(identities, [3, 1])
        XCTAssertEqual(uname, "别死在火星上")
        XCTAssertEqual(infoUID, 689_754_432)
        XCTAssertEqual(infoName, uname)
    }

    func testVarintLimits() throws {
        var ten = ProtobufReader(Hex.decode("ffffffffffffffffff01"))
        XCTAssertEqual(try ten.readVarint(), UInt64.max)
        var overlong = ProtobufReader(Hex.decode("ffffffffffffffffff02"))
        XCTAssertThrowsError(try overlong.readVarint()) {
            XCTAssertEqual(($0 as? ProtobufError)?.reason, .overlongVarint)
        }
        var eleven = ProtobufReader(Hex.decode("8080808080808080808000"))
        XCTAssertThrowsError(try eleven.readVarint()) {
            XCTAssertEqual(($0 as? ProtobufError)?.reason, .overlongVarint)
        }
        var truncated = ProtobufReader(Hex.decode("0880"))
        XCTAssertThrowsError(try truncated.next()) { error in
            XCTAssertEqual(error as? ProtobufError, ProtobufError(.truncatedVarint, offset: 1))
        }
    }

    func testTruncationAndInvalidInputGiveClearErrors() {
        func reason(_ h: String) -> ProtobufError.Reason? {
            do { _ = try readAll(Hex.decode(h)); return nil } catch { return (error as? ProtobufError)?.reason }
        }
        XCTAssertEqual(reason("0a05616263"), .truncatedValue)  // length 5, 3 bytes
        XCTAssertEqual(reason("0a"), .truncatedVarint)  // missing length
        XCTAssertEqual(reason("09000000"), .truncatedValue)  // fixed64 with 3 bytes
        XCTAssertEqual(reason("0d0000"), .truncatedValue)  // fixed32 with 2 bytes
        XCTAssertEqual(reason("0000"), .invalidFieldNumber)  // field 0
        XCTAssertEqual(reason("0e00"), .invalidWireType(6))
        XCTAssertEqual(reason("0b0c"), .groupsUnsupported)
        XCTAssertEqual(reason("0a0affffffffffffffffffff"), nil)  // bytes are opaque until parsed
        // Packed content with a truncated varint.
        let field = ProtobufField(number: 4, value: .lengthDelimited([0x96]))
        XCTAssertThrowsError(try field.packedVarints())
        XCTAssertThrowsError(try ProtobufField(number: 1, value: .fixed32(0)).packedVarints())
    }

    func testEveryTruncationOfTheSampleThrowsOrStopsCleanly() throws {
        let text = try XCTUnwrap(TestFiles.read("Fixtures/samples/INTERACT_WORD_V2.data.pb.qydysky-2025-07.b64.txt"))
        let bytes = try Base64.decode(Array(text.prefix { $0 > 32 }))
        var clean = 0
        for cut in 0..<bytes.count {
            do {
                _ = try readAll(Array(bytes[..<cut]))
                clean += 1  // the cut fell between two top-level fields
            } catch {
                XCTAssertNotNil(error as? ProtobufError)
            }
        }
        XCTAssertGreaterThan(clean, 5)
        XCTAssertLessThan(clean, 40)
    }
}
