/// The client side of one WebSocket connection as a connection layer (ARCHITECTURE.md): `start()` gives the
/// upgrade request, `feed(bytes)` turns what the socket (or the TLS layer under it) delivered into message
/// payloads plus the bytes this layer must write itself (pongs, the close echo), `wrap(payload)` makes a
/// masked binary message. No I/O, no clock: the caller writes `Output.outgoing` and closes the socket when
/// `Output.closed` is set.
///
/// Life: `.connecting` (request sent, reading the 101) → `.open` → `.closing` (we sent close, waiting for the
/// peer's) → `.closed`. A peer's close while open is echoed with its code (§5.5.1) and ends in `.closed`.
public struct WebSocketLayer {
    public enum State: Equatable, Sendable {
        case connecting
        case open
        case closing
        case closed
    }

    public struct Output: Sendable {
        /// Complete message payloads in order (binary; text ones too, as their UTF-8 bytes).
        public var messages: [[UInt8]] = []
        /// Bytes to write to the peer: pongs and the close echo.
        public var outgoing: [UInt8] = []
        /// Set by the feed that completed the upgrade.
        public var opened = false
        /// Set when the peer's close frame arrived: write `outgoing`, then close the connection.
        public var closed: WebSocketClose?
        /// Pongs received (answers to our pings; the danmaku protocol keeps its own op 2 heartbeat).
        public var pongs = 0
    }

    public private(set) var state = State.connecting
    public let handshake: WebSocketHandshake
    private var parser: WebSocketHandshakeParser
    private var decoder: WebSocketFrameDecoder
    private var encoder: WebSocketFrameEncoder
    private var events: [WebSocketFrameDecoder.Event] = []

    public init(
        handshake: WebSocketHandshake, limits: WebSocketFrameDecoder.Limits = .init(), maxHeaderBytes: Int = 8192,
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) {
        self.handshake = handshake
        parser = WebSocketHandshakeParser(expectedAccept: handshake.expectedAccept, maxHeaderBytes: maxHeaderBytes)
        decoder = WebSocketFrameDecoder(role: .client, limits: limits)
        encoder = WebSocketFrameEncoder(masks: true, random: random)
    }

    /// The upgrade request: the first bytes to write once the transport under this layer is connected.
    public func start() throws(WebSocketError) -> [UInt8] { try handshake.requestBytes() }

    /// Takes bytes from the peer. Throws on a handshake or framing error; for a framing error, write
    /// `failureFrame(for:)` (best effort) and close.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(WebSocketError) -> Output {
        let (output, failure) = feedKeepingOutput(bytes)
        if let failure { throw failure }
        return output
    }

    /// Like `feed`, but an error comes with what was decoded before it (the messages ahead of a bad frame in the
    /// same read, which a session still delivers: they were valid).
    public mutating func feedKeepingOutput(_ bytes: UnsafeRawBufferPointer) -> (Output, WebSocketError?) {
        var output = Output()
        var rest = bytes
        if state == .connecting {
            do throws(WebSocketError) {
                switch try parser.feed(bytes) {
                case .needMore: return (output, nil)
                case .done(let consumed):
                    state = .open
                    output.opened = true
                    rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
                }
            } catch {
                return (output, error)
            }
        }
        if rest.isEmpty { return (output, nil) }
        events.removeAll(keepingCapacity: true)
        defer { events.removeAll() }
        var failure: WebSocketError?
        do { try decoder.feed(rest, into: &events) } catch { failure = error }
        // Events decoded before an error are still delivered in order (a message, then the bad frame).
        for event in events {
            switch event {
            case .message(_, let payload):
                if state != .closed { output.messages.append(payload) }
            case .ping(let payload):
                if state == .open { encoder.encode(.pong, payload: payload, into: &output.outgoing) }
            case .pong:
                output.pongs += 1
            case .close(let close):
                if state == .open {
                    encoder.encodeClose(WebSocketClose(code: close.code), into: &output.outgoing)
                }
                state = .closed
                output.closed = close
            }
        }
        return (output, failure)
    }

    public mutating func feed(_ bytes: [UInt8]) throws(WebSocketError) -> Output {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WebSocketError) in try feed(raw) } }
        return try result.get()
    }

    /// One binary message (`payload` = one or more danmaku packets), masked; empty once closing.
    public mutating func wrap(_ payload: some Collection<UInt8>) -> [UInt8] {
        guard state == .open else { return [] }
        return encoder.encode(.binary, payload: payload)
    }

    /// A ping (e.g. a liveness probe), masked.
    public mutating func ping(_ payload: [UInt8] = []) -> [UInt8] {
        guard state == .open else { return [] }
        return encoder.encode(.ping, payload: payload.prefix(125))
    }

    /// Starts the closing handshake (§7.1.2): the close frame to write; then keep feeding until `closed`.
    public mutating func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") -> [UInt8] {
        guard state == .open else { return [] }
        state = .closing
        var output: [UInt8] = []
        encoder.encodeClose(WebSocketClose(code: code, reason: reason), into: &output)
        return output
    }

    /// The close frame to send after a framing error (§7.1.7 "Fail the WebSocket Connection"); empty for a
    /// handshake error or when already closing.
    public mutating func failureFrame(for error: WebSocketError) -> [UInt8] {
        guard !error.isHandshake, state == .open else { return [] }
        state = .closed
        var output: [UInt8] = []
        encoder.encodeClose(WebSocketClose(code: error.closeCode, reason: ""), into: &output)
        return output
    }
}
