/// Why a transport failed under the packet frames: the WebSocket layer or the TLS layer.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    case webSocket(WebSocketError)
    case tls(TLSError)

    public var description: String {
        switch self {
        case .webSocket(let error): error.description
        case .tls(let error): error.description
        }
    }
}

/// The layers one connection stacks under the 16-byte packet frames (ARCHITECTURE.md: `[TLS] → [WebSocket] →
/// frames`): none for `tcp`, WebSocket for `ws`, TLS then WebSocket for `wss`. The session sees only packet
/// bytes and never which transport carried them:
/// - `start()` at connect: bytes to write (ClientHello, or the upgrade request; nothing for TCP);
/// - `feed(socketBytes)`: `packetBytes` for the packet FrameDecoder (for ws/wss the concatenated message
///   payloads: each message holds whole packets, so concatenation is a valid packet stream), `outgoing` to
///   write (TLS handshake, pongs, close echo), `ready` once packets may be sent (AUTH goes out then);
/// - `wrap(packets)`: socket bytes for outgoing packets (AUTH, heartbeats).
public struct TransportStack {
    public enum Kind: String, Sendable, CaseIterable {
        case tcp
        case ws
        case wss
    }

    public enum Closed: Equatable, Sendable {
        /// The server's WebSocket close frame (its code and reason).
        case webSocket(WebSocketClose)
        /// TLS close_notify without a WebSocket close first.
        case tls
    }

    public struct Output: Sendable {
        public var packetBytes: [UInt8] = []
        public var outgoing: [UInt8] = []
        /// Set once: the transport is open and packets may be written.
        public var ready = false
        /// Set when the server ended the stream at this layer; write `outgoing`, then close the socket.
        public var closed: Closed?
    }

    public let kind: Kind
    private var webSocket: WebSocketLayer?
    private let tls: TLSLayer?
    private var isReady = false

    public static func tcp() -> TransportStack { TransportStack(kind: .tcp, webSocket: nil, tls: nil) }

    public static func ws(_ layer: WebSocketLayer) -> TransportStack {
        TransportStack(kind: .ws, webSocket: layer, tls: nil)
    }

    public static func wss(_ layer: WebSocketLayer, over tls: TLSLayer) -> TransportStack {
        TransportStack(kind: .wss, webSocket: layer, tls: tls)
    }

    private init(kind: Kind, webSocket: WebSocketLayer?, tls: TLSLayer?) {
        self.kind = kind
        self.webSocket = webSocket
        self.tls = tls
    }

    /// Whether packets may be written (`wrap` returns nothing before).
    public var ready: Bool { isReady }

    /// The TLS layer, for its session (resumption on the next connect) and protocol version.
    public var tlsLayer: TLSLayer? { tls }

    public mutating func start() throws(TransportError) -> Output {
        var output = Output()
        guard let layer = webSocket else {
            isReady = true
            output.ready = true
            return output
        }
        let request: [UInt8]
        do { request = try layer.start() } catch { throw .webSocket(error) }
        if let tls {
            do {
                output.outgoing = try tls.start()
                output.outgoing += try tls.wrap(request)  // queued inside TLS until its handshake completes
            } catch { throw .tls(error) }
        } else {
            output.outgoing = request
        }
        return output
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> Output {
        let (output, failure) = feedKeepingOutput(bytes)
        if let failure { throw failure }
        return output
    }

    /// Like `feed`, but an error comes with what the layers produced before it: the packet bytes of the messages
    /// ahead of a bad frame in the same read (valid, so delivered, as TCP delivers the packets before a bad
    /// header), and what to write. After an error write `outgoing` + `failureBytes(for:)`, then close.
    public mutating func feedKeepingOutput(_ bytes: UnsafeRawBufferPointer) -> (Output, TransportError?) {
        var output = Output()
        guard var layer = webSocket else {
            output.packetBytes = Array(bytes)
            return (output, nil)
        }
        var plaintext: [UInt8]
        if let tls {
            let tlsOutput: TLSLayer.Output
            do throws(TLSError) { tlsOutput = try tls.feed(bytes) } catch { return (output, .tls(error)) }
            output.outgoing = tlsOutput.outgoing
            plaintext = tlsOutput.plaintext
            if tlsOutput.closed { output.closed = .tls }
        } else {
            plaintext = Array(bytes)
        }
        if plaintext.isEmpty { return (output, nil) }
        let (wsOutput, wsFailure) = plaintext.withUnsafeBytes { layer.feedKeepingOutput($0) }
        webSocket = layer
        for message in wsOutput.messages { output.packetBytes += message }
        if wsOutput.opened {
            isReady = true
            output.ready = true
        }
        if let close = wsOutput.closed { output.closed = .webSocket(close) }
        if !wsOutput.outgoing.isEmpty {
            do throws(TLSError) { output.outgoing += try wrapPlain(wsOutput.outgoing) } catch {
                return (output, .tls(error))
            }
        }
        return (output, wsFailure.map { .webSocket($0) })
    }

    public mutating func feed(_ bytes: [UInt8]) throws(TransportError) -> Output {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(TransportError) in try feed(raw) } }
        return try result.get()
    }

    /// Socket bytes carrying `packets` (one WebSocket binary message for ws/wss).
    public mutating func wrap(_ packets: [UInt8]) throws(TransportError) -> [UInt8] {
        guard var layer = webSocket else { return packets }
        let frame = layer.wrap(packets)
        webSocket = layer
        do { return try wrapPlain(frame) } catch { throw .tls(error) }
    }

    /// Bytes to write before closing the socket: a WebSocket close (1000 or `code`), then TLS close_notify.
    public mutating func close(_ code: WebSocketCloseCode = .normalClosure) -> [UInt8] {
        guard var layer = webSocket else { return [] }
        let frame = layer.close(code)
        webSocket = layer
        var bytes = (try? wrapPlain(frame)) ?? []
        if let tls { bytes += tls.close() }
        return bytes
    }

    /// After a framing error from `feed`: the close frame carrying its code (§7.1.7), to write best effort
    /// before closing the socket. Empty for handshake and TLS errors.
    public mutating func failureBytes(for error: TransportError) -> [UInt8] {
        guard case .webSocket(let wsError) = error, var layer = webSocket else { return [] }
        let frame = layer.failureFrame(for: wsError)
        webSocket = layer
        return (try? wrapPlain(frame)) ?? []
    }

    private func wrapPlain(_ bytes: [UInt8]) throws(TLSError) -> [UInt8] {
        guard let tls else { return bytes }
        return try tls.wrap(bytes)
    }
}
