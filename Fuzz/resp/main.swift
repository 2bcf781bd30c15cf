// libFuzzer target for the RESP2 reply reader (Sources/DanmuPipeline/Redis/RESPReader.swift). Built by
// `Fuzz/build.sh resp`; `Fuzz/smoke.sh` picks it up (every Fuzz/<name>/main.swift).
// Invariants checked on every input:
// - reading never traps, whatever the nesting or lengths (small limits so the fuzzer reaches them);
// - the result does not depend on how the stream is split: whole, or in two parts cut where the first byte says;
// - every reply read re-encodes to RESP that reads back to the same reply.
import Glibc

private func check(_ condition: Bool, _ message: String) {
    if !condition {
        fputs("fuzz invariant failed: \(message)\n", stderr)
        abort()
    }
}

private func encode(_ value: RESPValue, into out: inout [UInt8]) {
    func line(_ prefix: String, _ text: String) { out += Array((prefix + text + "\r\n").utf8) }
    switch value {
    case .simpleString(let s): line("+", s)
    case .error(let s): line("-", s)
    case .integer(let i): line(":", String(i))
    case .bulkString(nil): line("$", "-1")
    case .bulkString(let bytes?):
        line("$", String(bytes.count))
        out += bytes
        out += [13, 10]
    case .array(nil): line("*", "-1")
    case .array(let items?):
        line("*", String(items.count))
        for item in items { encode(item, into: &out) }
    }
}

private func readAll(_ parts: [ArraySlice<UInt8>], _ limits: RESPReader.Limits) -> ([RESPValue], RESPError?) {
    var reader = RESPReader(limits: limits)
    var values: [RESPValue] = []
    for part in parts {
        reader.feed(part)
        do {
            while let value = try reader.next() { values.append(value) }
        } catch {
            _ = error.description
            return (values, error)
        }
    }
    return (values, nil)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = RESPReader.Limits()
    limits.maxBulkLength = 4096
    limits.maxArrayCount = 256
    limits.maxDepth = 16
    limits.maxLineLength = 512
    let whole = readAll([bytes[...]], limits)
    if size > 0 {
        let cut = Int(bytes[0]) % (size + 1)
        let split = readAll([bytes[..<cut], bytes[cut...]], limits)
        check(split.0 == whole.0, "values differ when split at \(cut)")
        // A line-length error may come one feed earlier or later; any other error must agree.
        if whole.1 != .lineTooLong && split.1 != .lineTooLong {
            check(
                split.1 == whole.1,
                "errors differ when split at \(cut): \(String(describing: whole.1)) vs \(String(describing: split.1))")
        }
    }
    for value in whole.0 {
        var encoded: [UInt8] = []
        encode(value, into: &encoded)
        var unlimited = RESPReader.Limits()
        unlimited.maxLineLength = 1 << 20
        let again = readAll([encoded[...]], unlimited)
        check(again.1 == nil && again.0 == [value], "re-encoded reply does not read back")
    }
    return 0
}
