import Glibc
import XCTest

@testable import DanmuCodecs

/// Checks against the fixtures `Scripts/gen_json_fixtures.py` generated with Python's json module (the oracle), and
/// against every committed Bilibili sample.
final class JSONFixtureTests: XCTestCase {
    /// Repository root: this file is <root>/Tests/DanmuCodecsTests/JSONFixtureTests.swift.
    static let root: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw XCTSkip("cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func unhex(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for c in text.utf8 {
            let v = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }

    /// The event stream of the generator script's docstring, produced from our parse.
    static func events(_ node: JSONNode, into out: inout [String]) {
        func hex(_ bytes: some Sequence<UInt8>) -> String {
            bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
        }
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
        case .string: out.append("S" + hex(node.string!.utf8))
        case .array:
            out.append("A\(node.count)")
            for element in node.elements { events(element, into: &out) }
        case .object:
            out.append("O\(node.count)")
            for (key, value) in node.members {
                out.append("K" + hex(key.utf8))
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
        let text = try Self.readFile(Self.root + "/Fixtures/generated/json/valid.txt")
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        var checked = 0
        var i = 0
        while i + 2 < lines.count {
            let name = String(decoding: lines[i], as: UTF8.self)
            XCTAssertTrue(name.hasPrefix("=== "), "malformed fixture at line \(i)")
            let input = Self.unhex(Substring(decoding: lines[i + 1], as: UTF8.self))
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
                    XCTAssertEqual(Self.events(reparsed), expectedWritten, "\(name): write/re-parse differs (ascii \(ascii))")
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
        let text = try Self.readFile(Self.root + "/Fixtures/generated/json/invalid.txt")
        var checked = 0
        for line in text.split(separator: 0x0A) {
            let fields = line.split(separator: 0x20, maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(decoding: fields[0], as: UTF8.self)
            let input = fields.count > 1 ? Self.unhex(Substring(decoding: fields[1], as: UTF8.self)) : []
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
        let text = try Self.readFile(Self.root + "/Fixtures/generated/json/canonical.txt")
        var checked = 0
        for line in text.split(separator: 0x0A) {
            let fields = line.split(separator: 0x20).map { Substring(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(fields.count, 4)
            let value = try JSONValue(parsing: Self.unhex(fields[1]))
            XCTAssertEqual(value.serialized(), Self.unhex(fields[2]), "\(fields[0]) UTF-8 output")
            XCTAssertEqual(value.serialized(asciiOnly: true), Self.unhex(fields[3]), "\(fields[0]) ASCII output")
            checked += 1
        }
        XCTAssertEqual(checked, 400)
    }

    func testEverySampleParses() throws {
        let directory = Self.root + "/Fixtures/samples"
        let names = Self.listDirectory(directory).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThan(names.count, 40)
        for name in names {
            let bytes = try Self.readFile(directory + "/" + name)
            XCTAssertNoThrow(try JSONDocument(parsing: bytes), name)
        }
    }

    /// The extraction the client does on every DANMU_MSG, on the real modern sample.
    func testDanmakuFieldsFromModernSample() throws {
        let bytes = try Self.readFile(Self.root + "/Fixtures/samples/DANMU_MSG.ubw-2024-03.json")
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
