/// A small hand-written command-line parser: long options in both `--opt value` and `--opt=value` form,
/// short aliases (`-h`), flags, repeated options, positionals, and `--` to end options.
/// It knows nothing about the commands: each command declares its `OptionSpec`s and converts the raw
/// strings into typed values with the `value(...)` helpers, which produce messages such as
/// "--protover must be 2 or 3, got 4".

/// What went wrong on the command line; printed with the command's usage, exit status 2.
struct UsageError: Error, CustomStringConvertible, Equatable {
    var message: String
    var description: String { message }
    init(_ message: String) { self.message = message }
}

/// One option a command accepts.
struct OptionSpec {
    /// Long name without dashes ("protover").
    var name: String
    /// Optional one-letter alias ("h" for -h).
    var short: Character? = nil
    /// Placeholder shown in help ("2|3"); nil means the option is a flag and takes no value.
    var valueName: String? = nil
    var help: String
    var takesValue: Bool { valueName != nil }
}

/// The result of parsing: option values by long name (last one wins unless a command reads `all`), and the
/// positionals in order.
struct ParsedArguments {
    var positionals: [String] = []
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []

    mutating func record(_ spec: OptionSpec, value: String?) {
        if let value { values[spec.name, default: []].append(value) } else { flags.insert(spec.name) }
    }

    func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }
    func string(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// An integer option within `range`, or nil when absent.
    func int(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(
                "--\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got \(quoted(text))")
        }
        return number
    }

    /// A positive number of seconds (fractions allowed), or nil when absent.
    func seconds(_ name: String) throws(UsageError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let number = Double(text), number.isFinite, number > 0 else {
            throw UsageError("--\(name) must be a positive number of seconds, got \(quoted(text))")
        }
        return number
    }

    /// A non-negative decimal number, or nil when absent.
    func number(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = string(name) else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw UsageError(
                "--\(name) must be a number from \(format(range.lowerBound)) to \(format(range.upperBound)), got \(quoted(text))"
            )
        }
        return number
    }

    /// One of a fixed set of words, or nil when absent.
    func choice(_ name: String, _ choices: [String]) throws(UsageError) -> String? {
        guard let text = string(name) else { return nil }
        guard choices.contains(text) else {
            throw UsageError("--\(name) must be \(alternatives(choices)), got \(quoted(text))")
        }
        return text
    }
}

/// "2 or 3", "text or jsonl", "none, zlib or brotli".
func alternatives(_ words: [String]) -> String {
    guard words.count > 1 else { return words.first ?? "" }
    return words.dropLast().joined(separator: ", ") + " or " + words.last!
}

/// Shows a value the user typed; an empty one is visible as "".
func quoted(_ text: String) -> String { text.isEmpty ? "\"\"" : text }

private func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

enum ArgumentParser {
    /// Parses `arguments` (the words after the command name) against `specs`. `-h`/`--help` are always known
    /// and recorded as the flag "help" so the caller can print help before complaining about anything else.
    static func parse(_ arguments: [String], specs: [OptionSpec]) throws(UsageError) -> ParsedArguments {
        let helpSpec = OptionSpec(name: "help", short: "h", help: "show this help")
        var byName: [String: OptionSpec] = ["help": helpSpec]
        var byShort: [Character: OptionSpec] = ["h": helpSpec]
        for spec in specs {
            byName[spec.name] = spec
            if let short = spec.short { byShort[short] = spec }
        }
        var result = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if optionsEnded || word == "-" || !word.hasPrefix("-") {
                result.positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            let spec: OptionSpec
            var inlineValue: String? = nil
            let shown: String
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name: Substring
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                shown = "--" + name
                guard let found = byName[String(name)] else {
                    throw UsageError(
                        "unknown option \(shown)\(suggestion(for: String(name), among: Array(byName.keys)))")
                }
                spec = found
            } else {
                // A negative number is a positional (room ids are positive, but say so clearly later).
                if word.dropFirst().allSatisfy(\.isNumber) {
                    result.positionals.append(word)
                    continue
                }
                guard word.count == 2, let found = byShort[word.last!] else {
                    throw UsageError("unknown option \(word)")
                }
                spec = found
                shown = word
            }
            if spec.takesValue {
                if inlineValue == nil {
                    guard index < arguments.count else {
                        throw UsageError("\(shown) needs a value (\(spec.valueName!))")
                    }
                    inlineValue = arguments[index]
                    index += 1
                }
                result.record(spec, value: inlineValue)
            } else {
                if inlineValue != nil { throw UsageError("\(shown) takes no value") }
                result.record(spec, value: nil)
            }
        }
        return result
    }

    /// " (did you mean --protover?)" for a near miss: same prefix or one edit away.
    private static func suggestion(for name: String, among names: [String]) -> String {
        let close = names.filter { candidate in
            (name.count >= 3 && candidate.hasPrefix(name)) || editDistance(candidate, name) <= 1
        }.sorted()
        guard let best = close.first else { return "" }
        return " (did you mean --\(best)?)"
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension OptionSpec {
    /// Help lines for a list of options, aligned in two columns.
    static func helpLines(_ specs: [OptionSpec]) -> String {
        let all = specs + [OptionSpec(name: "help", short: "h", help: "show this help")]
        let left = all.map { spec -> String in
            var text = spec.short.map { "-\($0), " } ?? "    "
            text += "--" + spec.name
            if let value = spec.valueName { text += " " + value }
            return text
        }
        let width = min(34, (left.map(\.count).max() ?? 0) + 2)
        var lines: [String] = []
        for (text, spec) in zip(left, all) {
            let pad =
                text.count < width
                ? String(repeating: " ", count: width - text.count) : "\n  " + String(repeating: " ", count: width)
            lines.append("  " + text + pad + spec.help)
        }
        return lines.joined(separator: "\n")
    }
}
