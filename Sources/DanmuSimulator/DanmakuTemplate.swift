import EventLoop
import Glibc

/// Builds DANMU_MSG bodies from the real 2024 sample with a handful of holes, so one message costs a few
/// `append(contentsOf:)` of precomputed byte pieces plus some integer formatting (no JSON encoding per message).
///
/// The holes (see Scripts/simulator-samples.py): send time ms (`info[0][4]`), unix seconds (`info[9].ts`), the
/// text (`info[1]` and, escaped a second time, `extra.content`), `extra.id_str`, the uid and the uname.
struct DanmakuTemplate: Sendable {
    enum Hole: UInt8, Sendable {
        case sendMs = 77, unixSeconds = 83, text = 84, content = 67, idStr = 73, uid = 85, uname = 78
    }  // ASCII of M S T C I U N

    struct User: Sendable { var uid: [UInt8]; var uname: [UInt8] }
    struct Text: Sendable { var level1: [UInt8]; var level2: [UInt8] }

    /// `pieces[i]` precedes `holes[i]`; the last piece ends the body.
    let pieces: [[UInt8]]
    let holes: [Hole]
    let users: [User]
    /// `users` as a guest socket sees them: uid 0 and the name masked (`maskedName`).
    let maskedUsers: [User]
    let texts: [Text]
    let rawTexts: [String]

    /// Texts are chosen to look like chat and to exercise escaping: CJK, emoji, a quote and a backslash.
    static let defaultTexts = [
        "hello", "哈哈哈哈", "主播好", "草", "这是比赛，没必要让", "666666", "awsl", "前排", "\"quoted\" text",
        "back\\slash", "emoji 😂👍", "晚上好～", "[dog]", "？？？", "tab\there",
    ]
    static let defaultUsers: [(Int64, String)] = [
        (3546571385866489, "孤丶独の观测者"), (390117739, "哦豁wylzz"), (12345, "simulated_user"),
        (0, "***"), (8_000_000_001, "弹幕测试员"), (42, "name \"with\" quotes"),
    ]

    init(
        template: String = SampleBodies.danmakuTemplate,
        texts: [String] = DanmakuTemplate.defaultTexts,
        users: [(Int64, String)] = DanmakuTemplate.defaultUsers
    ) {
        precondition(!texts.isEmpty && !users.isEmpty)
        let bytes = Array(template.utf8)
        var pieces: [[UInt8]] = []
        var holes: [Hole] = []
        var start = 0
        var i = 0
        // A hole is "@@X@@" with X one of the Hole letters.
        while i + 4 < bytes.count {
            if bytes[i] == 0x40, bytes[i + 1] == 0x40, bytes[i + 3] == 0x40, bytes[i + 4] == 0x40,
                let hole = Hole(rawValue: bytes[i + 2])
            {
                pieces.append(Array(bytes[start..<i]))
                holes.append(hole)
                i += 5
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(Array(bytes[start...]))
        self.pieces = pieces
        self.holes = holes
        self.rawTexts = texts
        self.texts = texts.map {
            Text(level1: jsonEscaped($0), level2: jsonEscaped(String(decoding: jsonEscaped($0), as: UTF8.self)))
        }
        self.users = users.map { User(uid: Array(String($0.0).utf8), uname: jsonEscaped($0.1)) }
        self.maskedUsers = users.map { User(uid: [0x30], uname: jsonEscaped(Self.maskedName($0.1))) }
    }

    /// A name as the live site shows it to a guest (no logged-in uid in AUTH): its first character and `***`
    /// (`孤***`); `***` for an empty or already masked name.
    static func maskedName(_ name: String) -> String {
        guard let first = name.first, !name.hasPrefix("***") else { return "***" }
        return String(first) + "***"
    }

    /// Appends one DANMU_MSG body. Text and user are picked from the room's sequence number, so a given
    /// (room, seq) always produces the same text. `masked`: the body a guest socket gets (uid 0, masked name).
    func append(
        room: Int64, seq: UInt64, monotonicNs: UInt64, unixMs: Int64, masked: Bool = false, into out: inout [UInt8]
    ) {
        let text = texts[Int(seq % UInt64(texts.count))]
        let userIndex = Int((seq &* 7 &+ UInt64(bitPattern: room)) % UInt64(users.count))
        let user = masked ? maskedUsers[userIndex] : users[userIndex]
        for index in holes.indices {
            out.append(contentsOf: pieces[index])
            switch holes[index] {
            case .sendMs: appendDecimal(unixMs, to: &out)
            case .unixSeconds: appendDecimal(unixMs / 1000, to: &out)
            case .text:
                appendTextPrefix(seq, to: &out)
                out.append(contentsOf: text.level1)
            case .content:
                appendTextPrefix(seq, to: &out)
                out.append(contentsOf: text.level2)
            case .idStr: SimulatedMessageID(room: room, seq: seq, sentAtNs: monotonicNs).append(to: &out)
            case .uid: out.append(contentsOf: user.uid)
            case .uname: out.append(contentsOf: user.uname)
            }
        }
        out.append(contentsOf: pieces[pieces.count - 1])
    }

    /// The text of message `seq` as a client decodes it: "#<seq> <text>".
    func text(seq: UInt64) -> String {
        "#\(seq) " + rawTexts[Int(seq % UInt64(rawTexts.count))]
    }

    private func appendTextPrefix(_ seq: UInt64, to out: inout [UInt8]) {
        out.append(0x23)  // '#'
        appendDecimal(seq, to: &out)
        out.append(0x20)
    }
}

/// The `id_str` of a simulated danmaku: `sim-<room>-<seq>-<CLOCK_MONOTONIC ns at send>`. Clients use it to prove
/// order and completeness per room and to measure latency (compare with `SimulatedMessageID.monotonicNow()`).
public struct SimulatedMessageID: Hashable, Sendable, CustomStringConvertible {
    public var room: Int64
    /// Per-room danmaku sequence number: 1, 2, 3, … across reconnects.
    public var seq: UInt64
    /// CLOCK_MONOTONIC nanoseconds when the simulator generated the message.
    public var sentAtNs: UInt64

    public init(room: Int64, seq: UInt64, sentAtNs: UInt64) {
        self.room = room
        self.seq = seq
        self.sentAtNs = sentAtNs
    }

    /// Parses `sim-<room>-<seq>-<ns>`; nil for anything else (e.g. a real Bilibili id_str).
    public init?(idStr: some StringProtocol) {
        let parts = idStr.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "sim", let room = Int64(parts[1]), let seq = UInt64(parts[2]),
            let ns = UInt64(parts[3])
        else { return nil }
        self.init(room: room, seq: seq, sentAtNs: ns)
    }

    public var description: String { "sim-\(room)-\(seq)-\(sentAtNs)" }

    func append(to out: inout [UInt8]) {
        out.append(contentsOf: [0x73, 0x69, 0x6D, 0x2D])  // "sim-"
        appendDecimal(room, to: &out)
        out.append(0x2D)
        appendDecimal(seq, to: &out)
        out.append(0x2D)
        appendDecimal(sentAtNs, to: &out)
    }

    /// CLOCK_MONOTONIC now, in nanoseconds (the clock `sentAtNs` uses).
    public static func monotonicNow() -> UInt64 { SystemClock.monotonicNanoseconds() }
}

/// Unix time in milliseconds (CLOCK_REALTIME), for the `send time` fields real messages carry.
func unixMilliseconds() -> Int64 { SystemClock.realtimeNanoseconds() / 1_000_000 }

/// Appends the decimal digits of `value` without allocating a String.
func appendDecimal<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
    var magnitude = UInt64(truncatingIfNeeded: value.magnitude)
    if value < 0 { out.append(0x2D) }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch: enough for 20 digits
    withUnsafeMutableBytes(of: &digits) { scratch in
        var index = scratch.count
        repeat {
            index -= 1
            scratch[index] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
            magnitude /= 10
        } while magnitude != 0
        out.append(contentsOf: scratch[index...])
    }
}

/// JSON string escaping (RFC 8259): quote, backslash and control characters; everything else stays raw UTF-8.
func jsonEscaped(_ string: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(string.utf8.count)
    for byte in string.utf8 {
        switch byte {
        case 0x22: out.append(contentsOf: [0x5C, 0x22])
        case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
        case 0x0D: out.append(contentsOf: [0x5C, 0x72])
        case 0x09: out.append(contentsOf: [0x5C, 0x74])
        case 0..<0x20:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
        default: out.append(byte)
        }
    }
    return out
}
