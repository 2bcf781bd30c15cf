// libFuzzer target for the JSON parser and writer. Built by `Fuzz/build.sh json`.
// Invariants checked on every input:
// - parsing never traps; a rejection carries an offset inside [0, count];
// - an accepted document survives toValue → write → parse unchanged (non-finite doubles, which JSON cannot spell,
//   are compared as null), both with UTF-8 output and with ASCII-only output;
// - every node's accessors are consistent (rawBytes re-parses to the same value; int64 agrees with double).
@testable import DanmuCodecs
import Glibc

private func normalized(_ value: JSONValue) -> JSONValue {
    switch value {
    case .double(let d) where !d.isFinite: return .null
    case .array(let elements): return .array(elements.map(normalized))
    case .object(let object):
        return .object(JSONObject(object.members.map { (key: $0.key, value: normalized($0.value)) }))
    default: return value
    }
}

private func check(_ condition: Bool, _ message: String) {
    if !condition {
        fputs("fuzz invariant failed: \(message)\n", stderr)
        abort()
    }
}

private func visit(_ node: JSONNode, depth: Int) {
    let raw = Array(node.rawBytes)
    guard let again = try? JSONDocument(parsing: raw, maxDepth: 1024) else {
        check(false, "rawBytes of a node does not parse: \(String(decoding: raw, as: UTF8.self))")
        return
    }
    check(normalized(again.root.toValue()) == normalized(node.toValue()), "rawBytes re-parse differs")
    if let i = node.int64, let d = node.double { check(d == Double(i), "int64 \(i) vs double \(d)") }
    if node.kind == .string { check(node.stringEquals(node.string!), "stringEquals of own string") }
    guard depth < 4 else { return }
    for element in node.elements { visit(element, depth: depth + 1) }
    for (key, value) in node.members {
        check(node[key] != nil, "lookup of an existing key")
        visit(value, depth: depth + 1)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let document: JSONDocument
    do {
        document = try JSONDocument(parsing: bytes, maxDepth: 128)
    } catch {
        check(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside input of \(size)")
        _ = error.description
        return 0
    }
    let value = document.root.toValue()
    for ascii in [false, true] {
        let written = value.serialized(asciiOnly: ascii)
        do {
            let reparsed = try JSONValue(parsing: written, maxDepth: 128)
            check(reparsed == normalized(value), "round trip differs: \(String(decoding: written, as: UTF8.self))")
        } catch {
            check(false, "written JSON does not parse: \(error) in \(String(decoding: written, as: UTF8.self))")
        }
    }
    visit(document.root, depth: 0)
    return 0
}
