/// One-line human-readable rendering of events for terminals, e.g.
/// `[14073662] danmaku 北极猫25 too_long_name: 下午好`.
///
/// Every piece of server text passes `EventText.sanitize`: control characters (ESC, CR, LF, …) become `?`/space
/// so a message cannot move the cursor, rewrite the terminal title or break the one-line promise.
public enum EventText {
    /// The line for `event` without a trailing newline.
    public static func line(room: Int64, event: DanmuEvent) -> String {
        "[\(room)] \(event.kind.rawValue) " + event.visitPayload(TextLine.self)
    }

    /// Replaces C0/C1 control characters and DEL: tab/newline/CR become a space, everything else `?`.
    public static func sanitize(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: isControl) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !isControl(scalar) {
                out.append(scalar)
            } else if scalar == "\n" || scalar == "\r" || scalar == "\t" {
                out.append(" ")
            } else {
                out.append("?")
            }
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}

/// Each kind's `textLine`, reached through the one switch in `DanmuEvent.visitPayload`.
private enum TextLine: EventPayloadVisitor {
    static func visit<Payload: EventPayload>(_ payload: Payload, _ state: inout Void) -> String { payload.textLine }
}

// Helpers for the kinds' `textLine`s; instance methods so that a `textLine` reads without qualification.
extension EventPayload {
    /// Server text made safe for a terminal (`EventText.sanitize`).
    @inline(__always) func clean(_ text: String) -> String { EventText.sanitize(text) }

    /// 总督 / 提督 / 舰长 for guard levels 1–3.
    func guardName(_ level: Int) -> String? {
        switch level {
        case 1: return "总督"
        case 2: return "提督"
        case 3: return "舰长"
        default: return nil
        }
    }
}
