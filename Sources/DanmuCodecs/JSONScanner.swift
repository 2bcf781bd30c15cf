import Glibc

/// Shortcuts that read one field without building a ``JSONDocument``.
///
/// These do **not** validate the document: they scan only as far as needed and give up (falling back to a full,
/// strict parse) on anything unusual, such as an escaped key. Use them to route a message (e.g. by `cmd`) before
/// deciding whether to parse it; never as a substitute for parsing data you keep.
public enum JSONScanner {
    /// The string value of the first top-level member named `key`, or `nil` when the document is not an object,
    /// has no such member, or that member is not a string. Typical Bilibili bodies start with `"cmd"`, so this reads
    /// a few dozen bytes.
    public static func firstString(forKey key: String, in bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { firstString(forKey: key, in: $0) }
    }

    /// See ``firstString(forKey:in:)-([UInt8])``.
    public static func firstString(forKey key: String, in bytes: UnsafeRawBufferPointer) -> String? {
        var key = key
        let outcome = key.withUTF8 { scan(key: $0, in: bytes) }
        switch outcome {
        case .found(let value): return value
        case .absent: return nil
        case .unsure:
            guard let document = try? JSONDocument(parsing: bytes) else { return nil }
            return document.root[key]?.string
        }
    }

    private enum Outcome {
        case found(String)
        case absent
        case unsure
    }

    private static func scan(key: UnsafeBufferPointer<UInt8>, in buffer: UnsafeRawBufferPointer) -> Outcome {
        guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return .absent }
        let end = buffer.count
        var i = 0
        @inline(__always) func skipSpace() {
            while i < end && (base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09) { i += 1 }
        }
        /// From an opening quote to after the closing one; nil if unterminated. Reports escapes.
        @inline(__always) func skipString(_ escaped: inout Bool) -> Bool {
            i += 1
            while i < end {
                let b = base[i]
                if b == 0x22 {
                    i += 1
                    return true
                }
                if b == 0x5C {
                    escaped = true
                    i += 1
                }
                i += 1
            }
            return false
        }
        skipSpace()
        guard i < end, base[i] == 0x7B else { return .unsure }
        i += 1
        while true {
            skipSpace()
            guard i < end, base[i] == 0x22 else { return .unsure }
            let keyStart = i + 1
            var escaped = false
            guard skipString(&escaped), !escaped else { return .unsure }
            let keyLength = i - 1 - keyStart
            skipSpace()
            guard i < end, base[i] == 0x3A else { return .unsure }
            i += 1
            skipSpace()
            guard i < end else { return .unsure }
            let matches =
                keyLength == key.count
                && (keyLength == 0 || memcmp(base + keyStart, key.baseAddress!, keyLength) == 0)
            if matches {
                guard base[i] == 0x22 else { return .absent }
                let valueStart = i + 1
                var valueEscaped = false
                guard skipString(&valueEscaped), !valueEscaped else { return .unsure }
                let raw = UnsafeBufferPointer(start: base + valueStart, count: i - 1 - valueStart)
                // Printable ASCII (the usual cmd) needs no validation; control bytes are invalid in JSON strings
                // (the strict parser decides); anything else is validated as UTF-8.
                var ascii = true
                for b in raw where b &- 0x20 >= 0x60 {
                    if b < 0x20 { return .unsure }
                    ascii = false
                }
                if ascii { return .found(String(decoding: raw, as: UTF8.self)) }
                guard let value = String(validating: raw, as: UTF8.self) else { return .unsure }
                return .found(value)
            }
            // Skip the value: strings, nested containers (bracket depth, strings inside skipped), or scalars.
            var depth = 0
            while i < end {
                let b = base[i]
                if b == 0x22 {
                    var ignored = false
                    guard skipString(&ignored) else { return .unsure }
                    if depth == 0 { break }
                    continue
                }
                if b == 0x7B || b == 0x5B {
                    depth += 1
                } else if b == 0x7D || b == 0x5D {
                    if depth == 0 { break }
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        break
                    }
                } else if b == 0x2C && depth == 0 {
                    break
                }
                i += 1
            }
            skipSpace()
            guard i < end else { return .unsure }
            if base[i] == 0x2C {
                i += 1
                continue
            }
            return base[i] == 0x7D ? .absent : .unsure
        }
    }
}
