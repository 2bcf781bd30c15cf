/// Reads WebSocket frames (RFC 6455 §5.2) from bytes split any way: an explicit state machine, no recursion,
/// nothing buffered but the ≤ 14-byte header being read and the payload of the message being assembled.
///
/// Checks as it goes, before any payload is stored: reserved bits (no extension is negotiated), opcode, the mask
/// bit for the role, control-frame rules (≤ 125 bytes, not fragmented, allowed between fragments), shortest-form
/// lengths, the frame and message limits, continuation order; at the end of a frame: close payloads (§5.5.1,
/// §7.4) and UTF-8 of text messages and close reasons. After an error the decoder stays failed (every later
/// `feed` throws the same error); after the peer's close frame any further byte is `frameAfterClose`.
public struct WebSocketFrameDecoder {
    /// Which side reads: a `.client` reads a server's frames (which must not be masked), a `.server` a client's.
    public enum Role: Sendable {
        case client
        case server
    }

    public struct Limits: Sendable {
        /// Largest payload of one frame.
        public var maxFrameSize: Int
        /// Largest reassembled message (the sum of its fragments).
        public var maxMessageSize: Int

        /// 4 MiB each: a live room's brotli batch is a few KiB; an outsized one is a fault, not data to keep.
        public init(maxFrameSize: Int = 4 << 20, maxMessageSize: Int = 4 << 20) {
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
        }
    }

    public enum Event: Equatable, Sendable {
        /// A whole text or binary message (its fragments joined). A danmaku binary message holds ≥ 1 packets.
        case message(WebSocketOpcode, [UInt8])
        case ping([UInt8])
        case pong([UInt8])
        case close(WebSocketClose)
    }

    private enum State {
        case header
        case payload
        case closed
        case failed(WebSocketError)
    }

    public let role: Role
    public let limits: Limits
    private var state = State.header

    // The frame header being read: up to 2 + 8 + 4 bytes.
    private var headerBytes: (UInt64, UInt64) = (0, 0)
    private var headerCount = 0
    private var headerNeeded = 2

    // The frame whose payload is being read.
    private var opcode = WebSocketOpcode.binary
    private var fin = true
    private var maskKey: [UInt8] = []
    private var maskPhase = 0
    private var remaining = 0

    /// The message being assembled (`nil` between messages) and its bytes; control payloads go to `control`.
    private var messageOpcode: WebSocketOpcode?
    private var message: [UInt8] = []
    private var control: [UInt8] = []

    public init(role: Role = .client, limits: Limits = Limits()) {
        self.role = role
        self.limits = limits
    }

    /// Whether the peer's close frame has been read.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Bytes held for a message still being reassembled (0 between messages).
    public var bufferedMessageBytes: Int { message.count }

    /// Decodes `bytes`, appending each completed frame's event to `events` in order. Events completed before an
    /// error are appended before it is thrown.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [Event]) throws(WebSocketError) {
        if case .failed(let error) = state { throw error }
        do {
            try decode(bytes, into: &events)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Convenience for tests and small inputs.
    public mutating func feed(_ bytes: [UInt8]) throws(WebSocketError) -> [Event] {
        var events: [Event] = []
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WebSocketError) in try feed(raw, into: &events) }
        }
        try result.get()
        return events
    }

    private mutating func decode(_ bytes: UnsafeRawBufferPointer, into events: inout [Event]) throws(WebSocketError) {
        var index = 0
        while index < bytes.count {
            switch state {
            case .failed(let error):
                throw error
            case .closed:
                throw WebSocketError(.frameAfterClose)
            case .header:
                let byte = bytes[index]
                index += 1
                withUnsafeMutableBytes(of: &headerBytes) { $0[headerCount] = byte }
                headerCount += 1
                if headerCount == 2 { try checkFirstTwoBytes() }
                if headerCount == headerNeeded { try beginPayload(into: &events) }
            case .payload:
                let count = min(remaining, bytes.count - index)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])
                if opcode.isControl {
                    var buffer = control
                    control = []
                    append(chunk, to: &buffer)
                    control = buffer
                } else {
                    var buffer = message
                    message = []
                    append(chunk, to: &buffer)
                    message = buffer
                }
                index += count
                remaining -= count
                if remaining == 0 { try endFrame(into: &events) }
            }
        }
    }

    /// Appends payload bytes, unmasking them in place when the frame is masked.
    private mutating func append(_ chunk: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: chunk)
        guard !maskKey.isEmpty else { return }
        let key = maskKey
        let phase = maskPhase
        buffer.withUnsafeMutableBytes { raw in
            WebSocketMask.apply(key, to: UnsafeMutableRawBufferPointer(rebasing: raw[start...]), phase: phase)
        }
        maskPhase = (maskPhase + chunk.count) & 3
    }

    private func headerByte(_ i: Int) -> UInt8 { withUnsafeBytes(of: headerBytes) { $0[i] } }

    /// Everything decidable from the first two bytes, checked before the rest of the header is read.
    private mutating func checkFirstTwoBytes() throws(WebSocketError) {
        let b0 = headerByte(0)
        let b1 = headerByte(1)
        if b0 & 0x70 != 0 { throw WebSocketError(.reservedBitsSet((b0 >> 4) & 7)) }
        guard let op = WebSocketOpcode(rawValue: b0 & 0x0F) else { throw WebSocketError(.unknownOpcode(b0 & 0x0F)) }
        let masked = b1 & 0x80 != 0
        switch role {
        case .client where masked: throw WebSocketError(.maskedFrameFromServer)
        case .server where !masked: throw WebSocketError(.unmaskedFrameFromClient)
        default: break
        }
        let length7 = Int(b1 & 0x7F)
        fin = b0 & 0x80 != 0
        opcode = op
        if op.isControl {
            if !fin { throw WebSocketError(.fragmentedControlFrame) }
            if length7 > 125 { throw WebSocketError(.controlFrameTooLong(length7)) }
        } else if op == .continuation {
            if messageOpcode == nil { throw WebSocketError(.unexpectedContinuation) }
        } else if messageOpcode != nil {
            throw WebSocketError(.expectedContinuation)
        }
        headerNeeded = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0)
    }

    /// The header is complete: length and limits, then the payload state (or the frame's end if it is empty).
    private mutating func beginPayload(into events: inout [Event]) throws(WebSocketError) {
        let length7 = headerByte(1) & 0x7F
        var length = UInt64(length7)
        var offset = 2
        if length7 == 126 {
            length = UInt64(headerByte(2)) << 8 | UInt64(headerByte(3))
            offset = 4
            if length < 126 { throw WebSocketError(.nonMinimalLength) }
        } else if length7 == 127 {
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(headerByte(i)) }
            offset = 10
            if length >> 63 != 0 { throw WebSocketError(.invalidLength) }
            if length <= 0xFFFF { throw WebSocketError(.nonMinimalLength) }
        }
        if length > UInt64(limits.maxFrameSize) {
            throw WebSocketError(.frameTooLarge(length, limit: limits.maxFrameSize))
        }
        let size = Int(length)
        if !opcode.isControl, message.count + size > limits.maxMessageSize {
            throw WebSocketError(.messageTooLarge(message.count + size, limit: limits.maxMessageSize))
        }
        if headerNeeded == offset + 4 {
            maskKey = (offset..<offset + 4).map { headerByte($0) }
        } else {
            maskKey = []
        }
        maskPhase = 0
        if !opcode.isControl {
            if opcode != .continuation { messageOpcode = opcode }
            message.reserveCapacity(message.count + size)
        }
        remaining = size
        headerCount = 0
        headerNeeded = 2
        headerBytes = (0, 0)
        state = .payload
        if remaining == 0 { try endFrame(into: &events) }
    }

    private mutating func endFrame(into events: inout [Event]) throws(WebSocketError) {
        state = .header
        switch opcode {
        case .ping:
            events.append(.ping(control))
            control = []
        case .pong:
            events.append(.pong(control))
            control = []
        case .close:
            let payload = control
            control = []
            events.append(.close(try Self.parseClose(payload)))
            state = .closed
        case .text, .binary, .continuation:
            guard fin, let kind = messageOpcode else { return }
            // Hand the buffer over and start from an empty one: an idle connection keeps no message storage.
            let payload = message
            message = []
            messageOpcode = nil
            if kind == .text, String(validating: payload, as: UTF8.self) == nil { throw WebSocketError(.invalidUTF8) }
            events.append(.message(kind, payload))
        }
    }

    /// §5.5.1: empty, or a 2-byte code (§7.4) and a UTF-8 reason.
    static func parseClose(_ payload: [UInt8]) throws(WebSocketError) -> WebSocketClose {
        if payload.isEmpty { return WebSocketClose(code: nil) }
        if payload.count == 1 { throw WebSocketError(.closePayloadTooShort) }
        let code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
        if !code.isValidOnWire { throw WebSocketError(.invalidCloseCode(code.rawValue)) }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw WebSocketError(.invalidUTF8)
        }
        return WebSocketClose(code: code, reason: reason)
    }
}
