/// RFC 6455 §5.2 opcodes. 3–7 and 0xB–0xF are reserved and rejected by the decoder.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (§5.5) are ≤ 125 bytes, never fragmented, and may arrive between a message's fragments.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A close status code (RFC 6455 §7.4).
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let normalClosure = WebSocketCloseCode(1000)
    public static let goingAway = WebSocketCloseCode(1001)
    public static let protocolError = WebSocketCloseCode(1002)
    public static let unsupportedData = WebSocketCloseCode(1003)
    public static let invalidPayload = WebSocketCloseCode(1007)
    public static let policyViolation = WebSocketCloseCode(1008)
    public static let messageTooBig = WebSocketCloseCode(1009)
    public static let internalError = WebSocketCloseCode(1011)

    /// Whether the code may appear in a close frame: 1000–1003 and 1007–1011 (§7.4.1), 1012–1014 (registered
    /// later in the IANA registry, sent by real servers), 3000–4999 (libraries / applications, §7.4.2).
    /// 1004–1006 and 1015 are reserved and "MUST NOT be set as a status code in a Close control frame".
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// RFC 6455 §7.4.1's meaning of the code (and the IANA registry's for 1012–1014), for error messages;
    /// nil for library and application codes (3000–4999) and unknown ones.
    public var meaning: String? {
        switch rawValue {
        case 1000: "normal closure"
        case 1001: "going away"
        case 1002: "protocol error"
        case 1003: "unsupported data"
        case 1007: "invalid payload data"
        case 1008: "policy violation"
        case 1009: "message too big"
        case 1010: "mandatory extension"
        case 1011: "internal error"
        case 1012: "service restart"
        case 1013: "try again later"
        case 1014: "bad gateway"
        default: nil
        }
    }

    public var description: String { String(rawValue) }
}

/// A close frame's payload: no code (an empty close), or a code and a UTF-8 reason.
public struct WebSocketClose: Equatable, Sendable {
    public var code: WebSocketCloseCode?
    public var reason: String

    public init(code: WebSocketCloseCode?, reason: String = "") {
        self.code = code
        self.reason = reason
    }
}

/// Writes frames (§5.2). A client masks every frame with a fresh key from its random source (§5.3: "the masking
/// key MUST be derived from a strong source of entropy"); a server (the simulator) writes them unmasked.
public struct WebSocketFrameEncoder {
    public let masks: Bool
    private var random: any RandomNumberGenerator

    /// `masks: true` for a client. `random` supplies the 32-bit masking keys (a test passes a seeded generator).
    public init(masks: Bool, random: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        self.masks = masks
        self.random = random
    }

    /// Appends one frame to `output`; the payload is copied once and masked in place there.
    public mutating func encode(
        _ opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true, into output: inout [UInt8]
    ) {
        let count = payload.count
        output.reserveCapacity(output.count + count + 14)
        output.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = masks ? 0x80 : 0
        if count < 126 {
            output.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            output.append(maskBit | 126)
            output.append(UInt8(truncatingIfNeeded: count >> 8))
            output.append(UInt8(truncatingIfNeeded: count))
        } else {
            output.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: count >> shift))
            }
        }
        guard masks else {
            output.append(contentsOf: payload)
            return
        }
        let key = UInt32(truncatingIfNeeded: random.next())
        let keyBytes = [
            UInt8(key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8),
            UInt8(truncatingIfNeeded: key),
        ]
        output.append(contentsOf: keyBytes)
        let start = output.count
        output.append(contentsOf: payload)
        output.withUnsafeMutableBytes { raw in
            WebSocketMask.apply(keyBytes, to: UnsafeMutableRawBufferPointer(rebasing: raw[start...]), phase: 0)
        }
    }

    /// One frame as a new array.
    public mutating func encode(_ opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true)
        -> [UInt8]
    {
        var output: [UInt8] = []
        encode(opcode, payload: payload, fin: fin, into: &output)
        return output
    }

    /// A close frame (§5.5.1): the code big-endian, then the reason truncated to fit 125 bytes on a UTF-8
    /// boundary; `nil` writes an empty close.
    public mutating func encodeClose(_ close: WebSocketClose, into output: inout [UInt8]) {
        var payload: [UInt8] = []
        if let code = close.code {
            payload = [UInt8(code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
            var reason = Array(close.reason.utf8)
            if reason.count > 123 {
                var end = 123
                while end > 0, reason[end] & 0xC0 == 0x80 { end -= 1 }  // do not cut a scalar in two
                reason = Array(reason[..<end])
            }
            payload += reason
        }
        encode(.close, payload: payload, into: &output)
    }
}

/// XOR masking (§5.3), 8 bytes at a time.
enum WebSocketMask {
    /// Masks (or unmasks) `bytes` in place with `key`, starting at key byte `phase` (0…3).
    static func apply(_ key: [UInt8], to bytes: UnsafeMutableRawBufferPointer, phase: Int) {
        guard bytes.count > 0 else { return }
        var rotated = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { rotated[i] = key[(phase + i) & 3] }
        let word = rotated.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        var index = 0
        while index + 8 <= bytes.count {
            let value = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            bytes.storeBytes(of: value ^ word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            bytes[index] ^= rotated[index & 7]
            index += 1
        }
    }
}
