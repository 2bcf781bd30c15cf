import EventLoop
import Glibc

/// A point-in-time view of a collector, in the CLI's own terms (adapted from the collector's statistics).
struct StatusSnapshot {
    var rooms = 0
    var live = 0
    var connecting = 0
    var backingOff = 0
    var events: Int = 0
    var reconnects: Int = 0
    var errors: Int = 0
}

/// The live status line on stderr (only when stderr is a terminal): redrawn in place once a second with a
/// carriage return and "erase line", cleared before any warning and at exit.
final class StatusLine: @unchecked Sendable {
    private let enabled: Bool
    // Guarded by `lock`: whether a line is currently drawn, and the previous sample for the rate.
    private let lock = Lock<(drawn: Bool, lastEvents: Int, lastTime: UInt64, text: String)>((false, 0, 0, ""))

    init(enabled: Bool) {
        self.enabled = enabled
        lock.withLock { $0.lastTime = SystemClock.monotonicNanoseconds() }
    }

    func update(_ snapshot: StatusSnapshot) {
        guard enabled else { return }
        let now = SystemClock.monotonicNanoseconds()
        let line: String = lock.withLock { state in
            let seconds = Double(now &- state.lastTime) / 1e9
            let rate = seconds > 0 ? Double(snapshot.events - state.lastEvents) / seconds : 0
            state.lastEvents = snapshot.events
            state.lastTime = now
            state.drawn = true
            state.text = StatusLine.render(snapshot, rate: rate)
            return "\r\u{1B}[K" + state.text
        }
        _ = Posix.writeAll(STDERR_FILENO, line)
    }

    /// "rooms 200: 198 live, 1 connecting, 1 backing off | 1,234 msg/s | 56,789 events | 3 reconnects"
    static func render(_ s: StatusSnapshot, rate: Double) -> String {
        var text = "rooms \(s.rooms): \(s.live) live, \(s.connecting) connecting, \(s.backingOff) backing off"
        text += " | \(grouped(Int(rate.rounded()))) msg/s | \(grouped(s.events)) events | \(s.reconnects) reconnects"
        if s.errors > 0 { text += " | \(s.errors) errors" }
        return text
    }

    /// Runs `write` (output to the same terminal) with the status line erased, then draws it again.
    func whileHidden(_ write: () -> Void) {
        guard enabled else { return write() }
        let text: String? = lock.withLock { state in state.drawn ? state.text : nil }
        if text != nil { _ = Posix.writeAll(STDERR_FILENO, "\r\u{1B}[K") }
        write()
        if let text {
            let stillDrawn = lock.withLock { $0.drawn }
            if stillDrawn { _ = Posix.writeAll(STDERR_FILENO, "\r\u{1B}[K" + text) }
        }
    }

    /// Erases the status line so that the next stderr text starts on a clean line.
    func clear() {
        guard enabled else { return }
        let wasDrawn = lock.withLock { state -> Bool in
            defer { state.drawn = false }
            return state.drawn
        }
        if wasDrawn { _ = Posix.writeAll(STDERR_FILENO, "\r\u{1B}[K") }
    }
}

/// "1234567" → "1,234,567".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}

/// Warnings on stderr, each cause printed once (a room that keeps failing the same way does not flood the
/// terminal); counts of repeats are kept for the summary.
final class WarningLog: Sendable {
    private let seen = Lock<[String: Int]>([:])
    private let status: StatusLine?

    init(status: StatusLine?) { self.status = status }

    /// Prints "danmu-cli: warning: <message>" the first time `cause` is seen.
    func warn(cause: String, _ message: @autoclosure () -> String) {
        let first = seen.withLock { counts -> Bool in
            counts[cause, default: 0] += 1
            return counts[cause] == 1
        }
        guard first else { return }
        status?.clear()
        StandardError.print("danmu-cli: warning: " + message())
    }

    var totalWarnings: Int { seen.withLock { $0.values.reduce(0, +) } }
}

/// A tiny JSON object builder for the summary line (the event schema has its own writer in DanmuClient).
struct SummaryJSON {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: Int) { fields.append("\(SummaryJSON.quote(key)):\(value)") }
    mutating func add(_ key: String, _ value: Double) {
        fields.append("\(SummaryJSON.quote(key)):\(value.isFinite ? String((value * 1000).rounded() / 1000) : "null")")
    }
    mutating func add(_ key: String, _ value: String) {
        fields.append("\(SummaryJSON.quote(key)):\(SummaryJSON.quote(value))")
    }
    mutating func add(_ key: String, _ value: Bool) { fields.append("\(SummaryJSON.quote(key)):\(value)") }
    mutating func add(_ key: String, raw: String) { fields.append("\(SummaryJSON.quote(key)):\(raw)") }
    mutating func add(_ key: String, object: [(String, Int)]) {
        var inner = SummaryJSON()
        for (name, value) in object { inner.add(name, value) }
        add(key, raw: inner.text)
    }

    var text: String { "{" + fields.joined(separator: ",") + "}" }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
