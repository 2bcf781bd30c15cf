import Foundation
import XCTest

/// Parses JSON Lines output with Foundation's JSONSerialization (the tests' independent reference for the
/// tool's hand-written writer). Every non-empty line must be a JSON object.
func parseJSONLines(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
    var objects: [[String: Any]] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
        guard let data = raw.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            XCTFail("line \(index + 1) is not a JSON object: \(raw.prefix(300))", file: file, line: line)
            continue
        }
        objects.append(object)
    }
    return objects
}

/// The fields every event line must carry (schema owned by DanmuClient: room, cmd, kind, received_at).
let requiredEventFields = ["room", "cmd", "kind", "received_at"]

/// Splits a simulator id_str "sim-<room>-<seq>-<ns>" into (room, seq).
func simulatorSequence(_ idStr: String) -> (room: Int64, seq: Int)? {
    let parts = idStr.split(separator: "-")
    guard parts.count == 4, parts[0] == "sim", let room = Int64(parts[1]), let seq = Int(parts[2]) else { return nil }
    return (room, seq)
}

/// Per room, the simulator sequence numbers of the danmaku lines, in output order. A danmaku line without a
/// simulator id_str, or filed under another room than its id names, is a test failure (never skipped).
func danmakuSequences(_ lines: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) -> [Int64: [Int]] {
    var result: [Int64: [Int]] = [:]
    for object in lines where (object["kind"] as? String) == "danmaku" {
        guard let id = object["id_str"] as? String, let (room, seq) = simulatorSequence(id) else {
            XCTFail("danmaku line without a simulator id_str: \(object)", file: file, line: line)
            continue
        }
        let lineRoom = (object["room"] as? NSNumber)?.int64Value
        XCTAssertEqual(
            lineRoom, room, "danmaku \(id) written under room \(lineRoom.map(String.init) ?? "nil")",
            file: file, line: line)
        result[room, default: []].append(seq)
    }
    return result
}

/// The last non-empty stderr line parsed as a JSON object (the --summary line).
func summaryObject(_ stderr: String) -> [String: Any]? {
    for raw in stderr.split(separator: "\n").reversed() {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{"), let data = trimmed.data(using: .utf8) else { continue }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }
    return nil
}

func intValue(_ any: Any?) -> Int? { (any as? NSNumber)?.intValue }
