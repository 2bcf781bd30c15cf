import DanmuClient

/// Replaces every uid and user name with a keyed hash (SipHash-2-4), stable per key: the same person gets the
/// same pseudonym in every room and every run under one key, so analyses still join, and nobody without the
/// key can map a pseudonym back by hashing the uid space (as they could with an unkeyed hash).
///
/// - uid → the low 53 bits of SipHash(key, "uid:" + decimal uid), plus 1: positive, non-zero and exact in
///   JSON readers that use doubles. uid 0 (the server's "masked") stays 0.
/// - name → `u` + 16 hex digits of SipHash(key, "name:" + UTF-8 name). An empty name stays empty.
/// - a danmaku's `userHash` (the server's CRC32 of the uid, which would undo the rest) → the same pseudonym's
///   hex, and its reply target's uid and name likewise.
public struct AnonymizeStage: PipelineStage {
    private let hasher: SipHash24

    /// `key`: 16 bytes or more (`--anonymize-key-file`); longer keys are folded to 16 with SipHash itself.
    public init(key: [UInt8]) throws(PipelineError) {
        guard key.count >= 16 else {
            throw .invalidConfiguration("an anonymize key needs at least 16 bytes, got \(key.count)")
        }
        if key.count == 16 {
            hasher = SipHash24(key: key)
        } else {
            let fold = SipHash24(key: Array(key[0..<16]))
            let a = fold.hash(key)
            let b = fold.hash(key + [1])
            hasher = SipHash24(key: Self.bytes(a) + Self.bytes(b))
        }
    }

    public var name: String { "anonymize" }

    public func pseudonym(uid: Int64) -> Int64 {
        guard uid != 0 else { return 0 }
        let tag = hasher.hash(Array("uid:\(uid)".utf8))
        return Int64(tag & ((1 << 53) - 1)) + 1
    }

    public func pseudonym(name: String) -> String {
        guard !name.isEmpty else { return name }
        return "u" + Self.hex(hasher.hash(Array(("name:" + name).utf8)))
    }

    public func process(_ batch: [RoomEvent]) -> [RoomEvent] {
        batch.map { event in
            var event = event
            EventFields.rewriteIdentity(
                of: &event.event, uid: pseudonym(uid:), name: pseudonym(name:),
                userHash: { Self.hex(UInt64(self.pseudonym(uid: $0))) })
            return event
        }
    }

    private static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { out[15 - i] = digits[Int((value >> (4 * UInt64(i))) & 0xf)] }
        return String(decoding: out, as: UTF8.self)
    }
}
