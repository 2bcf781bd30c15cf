/// The id of one published event: `"<epoch>-<sequence>"`, both unsigned decimal integers, e.g.
/// `"1764632700123456-42"`.
///
/// - `epoch` is chosen when the `EventHub` starts (CLOCK_REALTIME in microseconds unless configured), so ids of an
///   earlier run of the process never look like ids of this one: a resume from another epoch is a restart, and is
///   reported as a gap (the events published while no process ran are unknown).
/// - `sequence` is hub-wide and strictly increasing (1, 2, 3, …) over every room, in the order events are delivered
///   on the loop. A resume from `E-S` therefore means "every event of my rooms with a sequence above S": exact across
///   rooms, without one cursor per room.
///
/// The SSE stream carries it as the `id:` field (so a browser's `EventSource` sends it back as `Last-Event-ID`); a
/// WebSocket message carries it as the `"id"` member. Gap events carry no id, so a resume after a gap replays what
/// the gap skipped if history still holds it.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Chosen at hub start; differs between runs of the process.
    public var epoch: UInt64
    /// Hub-wide position, starting at 1.
    public var sequence: UInt64

    public init(epoch: UInt64, sequence: UInt64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    /// Parses `"<epoch>-<sequence>"`: two runs of 1–20 ASCII digits that fit `UInt64`, nothing else (no sign, no
    /// spaces). Nil for anything else.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard let dash = utf8.firstIndex(of: UInt8(ascii: "-")),
            let epoch = Self.parseNumber(utf8[..<dash]),
            let sequence = Self.parseNumber(utf8[(dash + 1)...])
        else { return nil }
        self.init(epoch: epoch, sequence: sequence)
    }

    /// `"<epoch>-<sequence>"`.
    public var description: String { "\(epoch)-\(sequence)" }

    /// Orders by epoch, then sequence (meaningful within one epoch).
    public static func < (lhs: EventID, rhs: EventID) -> Bool {
        (lhs.epoch, lhs.sequence) < (rhs.epoch, rhs.sequence)
    }

    /// Decimal digits only, 1–20 of them, no overflow.
    static func parseNumber(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}
