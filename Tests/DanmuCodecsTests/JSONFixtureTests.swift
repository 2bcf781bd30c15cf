import Glibc
import TestSupport
import XCTest

@testable import DanmuCodecs

/// Checks against the fixtures `Scripts/gen_json_fixtures.py` generated with Python's json module (the oracle), and
/// against every committed Bilibili sample.
final class JSONFixtureTests: XCTestCase {
    /// Reads a committed fixture; a missing one is a failure (it is committed, so CI must have it), never a skip.
    static func readFile(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        guard let bytes = TestFiles.read(path) else {
            XCTFail("missing fixture \(path)", file: file, line: line)
            throw MissingFixture(path: path)
        }
        return bytes
    }

    struct MissingFixture: Error { var path: String }

    /// The event stream of the generator script's docstring, produced from our parse.
    static func events(_ node: JSONNode, into out: inout [String]) {
        switch node.kind {
        case .null: out.append("N")
        case .bool: out.append(node.bool! ? "T" : "F")
        case .number:
            if let i = node.int64 {
                out.append("I\(i)")
            } else {
                let bits = String(node.double!.bitPattern, radix: 16)
                out.append("D" + String(repeating: "0", count: 16 - bits.count) + bits)
            }
        case .string: out.append("S" + Hex.encode(node.string!.utf8))
        case .array:
            out.append("A\(node.count)")
            for element in node.elements { events(element, into: &out) }
        case .object:
            out.append("O\(node.count)")
            for (key, value) in node.members {
                out.append("K" + Hex.encode(key.utf8))
                events(value, into: &out)
            }
        }
    }

    static func events(_ document: JSONDocument) -> String {
        var out: [String] = []
        events(document.root, into: &out)
        return out.joined(separator: " ")
    }

    func testValidDocumentsMatchPython() throws {
        let text = try Self.readFile(TestFiles.repositoryRoot + "/Fixtures/generated/json/valid.txt")
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        var checked = 0
        var i = 0
        while i + 2 < lines.count {
            let name = String(decoding: lines[i], as: UTF8.self)
            XCTAssertTrue(name.hasPrefix("=== "), "malformed fixture at line \(i)")
            let input = Hex.decode(Substring(decoding: lines[i + 1], as: UTF8.self))
            let expected = String(decoding: lines[i + 2], as: UTF8.self)
            i += 3
            do {
                let document = try JSONDocument(parsing: input)
                XCTAssertEqual(Self.events(document), expected, "\(name): parse differs from Python")
                // Writer round trip, both output modes: the re-parsed document has the same events, except that
                // numbers beyond the Double range (parsed as ±infinity) are written as null by policy.
                let infinities: Set<Substring> = ["D7ff0000000000000", "Dfff0000000000000"]
                let expectedWritten = expected.split(separator: " ").map { infinities.contains($0) ? "N" : $0 }
                    .joined(separator: " ")
                for ascii in [false, true] {
                    let written = document.root.toValue().serialized(asciiOnly: ascii)
                    let reparsed = try JSONDocument(parsing: written)
                    XCTAssertEqual(
                        Self.events(reparsed), expectedWritten, "\(name): write/re-parse differs (ascii \(ascii))")
                    if ascii { XCTAssertTrue(written.allSatisfy { $0 < 0x80 }, "\(name): non-ASCII in ASCII output") }
                }
            } catch {
                XCTFail("\(name): rejected valid JSON: \(error)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 1500)
    }

    func testMalformedDocumentsAreRejectedWithAnOffset() throws {
        let text = try Self.readFile(TestFiles.repositoryRoot + "/Fixtures/generated/json/invalid.txt")
        var checked = 0
        for line in text.split(separator: 0x0A) {
            let fields = line.split(separator: 0x20, maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(decoding: fields[0], as: UTF8.self)
            let input = fields.count > 1 ? Hex.decode(Substring(decoding: fields[1], as: UTF8.self)) : []
            do {
                let document = try JSONDocument(parsing: input)
                XCTFail("\(name): accepted invalid JSON as \(Self.events(document))")
            } catch {
                XCTAssertTrue((0...input.count).contains(error.offset), "\(name): offset \(error.offset) out of range")
                XCTAssertTrue(error.description.hasPrefix("invalid JSON at byte \(error.offset): "))
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 150)
    }

    /// The writer's bytes equal Python's `json.dumps(separators=(",", ":"))`, with and without `ensure_ascii`.
    func testWriterMatchesPythonCompactOutput() throws {
        let text = try Self.readFile(TestFiles.repositoryRoot + "/Fixtures/generated/json/canonical.txt")
        var checked = 0
        for line in text.split(separator: 0x0A) {
            let fields = line.split(separator: 0x20).map { Substring(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(fields.count, 4)
            let value = try JSONValue(parsing: Hex.decode(fields[1]))
            XCTAssertEqual(value.serialized(), Hex.decode(fields[2]), "\(fields[0]) UTF-8 output")
            XCTAssertEqual(value.serialized(asciiOnly: true), Hex.decode(fields[3]), "\(fields[0]) ASCII output")
            checked += 1
        }
        XCTAssertEqual(checked, 400)
    }

    func testEverySampleParses() throws {
        let directory = TestFiles.repositoryRoot + "/Fixtures/samples"
        let names = TestFiles.list(directory, includingHidden: true).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThan(names.count, 40)
        for name in names {
            let bytes = try Self.readFile(directory + "/" + name)
            XCTAssertNoThrow(try JSONDocument(parsing: bytes), name)
        }
    }

    /// The extraction the client does on every DANMU_MSG, on the real modern sample.
    func testDanmakuFieldsFromModernSample() throws {
        let bytes = try Self.readFile(TestFiles.repositoryRoot + "/Fixtures/samples/DANMU_MSG.ubw-2024-03.json")
        let root = try JSONDocument(parsing: bytes).root
        XCTAssertEqual(root["cmd"]?.string, "DANMU_MSG")
        let info = try XCTUnwrap(root["info"])
        XCTAssertEqual(info[0]?[4]?.int64, 1_710_916_697_432)
        XCTAssertEqual(info[2]?[0]?.int64, 3_546_571_385_866_489)
        XCTAssertEqual(info[0]?[15]?["user"]?["base"]?["name"]?.string, "孤丶独の观测者")
        let extraText = try XCTUnwrap(info[0]?[15]?["extra"]?.string)
        let extra = try JSONDocument(parsing: Array(extraText.utf8)).root
        XCTAssertEqual(extra["id_str"]?.string, "1ff943b6b581c71a6207c5329965fa8488")
        XCTAssertEqual(extra["reply_uname"]?.string, "橘枳橼")
    }
}
