/// Writes the Prometheus text exposition format, version 0.0.4: each family as `# HELP`, `# TYPE` and its samples,
/// `name{label="value",…} number` lines ending in `\n`.
///
/// Escaping, as the format defines it: in label values `\` → `\\`, `"` → `\"` and newline → `\n`; in HELP text
/// `\` and newline only. Metric and label names are our own constants and are checked in debug builds, never
/// escaped. Internal: `MetricsRenderer` is the public surface.
struct PrometheusTextWriter {
    enum Kind: String {
        case counter, gauge
    }

    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// Starts a family. Counter names must end in `_total` (the naming convention the format's parsers assume
    /// when they strip the suffix).
    mutating func family(_ name: StaticString, _ kind: Kind, help: String) {
        let text = name.description
        assert(Self.isValidName(text), "bad metric name \(text)")
        assert(kind != .counter || text.hasSuffix("_total"), "counter \(text) must end in _total")
        append("# HELP ")
        append(text)
        append(" ")
        for byte in help.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            default: bytes.append(byte)
            }
        }
        append("\n# TYPE ")
        append(text)
        append(" ")
        append(kind.rawValue)
        append("\n")
    }

    /// One unlabelled sample of the family just started: `name value`.
    mutating func sample(_ name: StaticString, _ value: Int) {
        sample(name, [:], value)
    }

    /// One sample of the family just started: `name{labels} value`.
    mutating func sample(_ name: StaticString, _ labels: KeyValuePairs<StaticString, String>, _ value: Int) {
        append(name.description)
        if !labels.isEmpty {
            append("{")
            var first = true
            for (label, labelValue) in labels {
                if !first { append(",") }
                first = false
                append(label.description)
                append("=\"")
                Self.escapeLabelValue(labelValue, into: &bytes)
                append("\"")
            }
            append("}")
        }
        append(" ")
        append(String(value))
        append("\n")
    }

    /// `value` with `\`, `"` and newline escaped for a label value.
    static func escapeLabelValue(_ value: String, into out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
            default: out.append(byte)
            }
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the format's metric name grammar.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ":")
        }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }
}
