import DanmuClient

/// The layers under one simulated connection's packets, the server's mirror of the client's `TransportStack`:
/// none (TCP), the WebSocket upgrade and unmasked frames (ws), TLS under them (wss). The frame decoder (server
/// role: client frames must be masked), the encoder and the TLS layer are the client library's own, so the wire
/// format is written once. Loop-confined with its connection.
struct ServerTransport {
    enum Kind: String, Sendable {
        case tcp, ws, wss
    }

    /// Handshake misbehaviours of the ws/wss endpoints (`Simulator.Configuration.handshakeFaults`).
    enum HandshakeFault: Equatable {
        /// Never answer the upgrade request (the TLS handshake, for wss, completes).
        case stall
        /// Answer 101 with a wrong Sec-WebSocket-Accept.
        case badAccept
    }

    struct Output {
        var packetBytes: [UInt8] = []
        var outgoing: [UInt8] = []
        /// The client's close frame or close_notify arrived: write `outgoing`, then close.
        var closed = false
        /// Why the connection must be dropped (after writing `outgoing`): a bad request, a bad frame, TLS.
        var failure: String?
        /// The upgrade completed with this feed.
        var upgraded = false
    }

    let kind: Kind
    private let tls: TLSLayer?
    private var parser: WebSocketUpgradeRequestParser? = WebSocketUpgradeRequestParser()
    private var decoder: WebSocketFrameDecoder
    private var encoder = WebSocketFrameEncoder(masks: false)
    private var events: [WebSocketFrameDecoder.Event] = []
    private let fault: HandshakeFault?
    private var stalled = false
    /// The 101 went out: packets may be written.
    private(set) var isOpen: Bool

    static var tcp: ServerTransport { ServerTransport(kind: .tcp, tls: nil, fault: nil) }

    init(kind: Kind, tls: TLSLayer?, fault: HandshakeFault?, limits: WebSocketFrameDecoder.Limits = .init()) {
        self.kind = kind
        self.tls = tls
        self.fault = fault
        decoder = WebSocketFrameDecoder(role: .server, limits: limits)
        isOpen = kind == .tcp
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Output {
        var output = Output()
        guard kind != .wss || tls != nil else {
            // SSL_new failed at accept: never serve a wss port in plaintext.
            output.failure = "no TLS session for this connection"
            return output
        }
        var plaintext: [UInt8]
        if let tls {
            do throws(TLSError) {
                let result = try tls.feed(bytes)
                output.outgoing = result.outgoing
                plaintext = result.plaintext
                output.closed = result.closed
            } catch {
                output.failure = error.description
                return output
            }
        } else {
            plaintext = Array(bytes)
        }
        guard !plaintext.isEmpty, !stalled else { return output }
        var rest = plaintext[...]
        if var current = parser {
            do throws(WebSocketError) {
                let progress = try current.feed(plaintext)
                parser = current
                guard case .done(let request, let consumed) = progress else { return output }
                parser = nil
                guard request.path == "/sub" else {
                    output.outgoing += encrypt(WebSocketUpgradeRequest.rejection(status: 404, reason: "Not Found"))
                    output.failure = "upgrade to unknown path \(request.path)"
                    return output
                }
                switch fault {
                case .stall:
                    stalled = true
                    return output
                case .badAccept:
                    output.outgoing += encrypt(
                        request.switchingProtocols(acceptOverride: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
                case nil:
                    output.outgoing += encrypt(request.switchingProtocols())
                }
                isOpen = true
                output.upgraded = true
                rest = plaintext[consumed...]
            } catch {
                output.outgoing += encrypt(WebSocketUpgradeRequest.rejection(status: 400, reason: "Bad Request"))
                output.failure = error.description
                return output
            }
        }
        guard !rest.isEmpty else { return output }
        events.removeAll(keepingCapacity: true)
        var failure: WebSocketError?
        do throws(WebSocketError) {
            events = try decoder.feed(Array(rest))
        } catch {
            failure = error
        }
        for event in events {
            switch event {
            case .message(_, let payload): output.packetBytes += payload
            case .ping(let payload):
                var pong: [UInt8] = []
                encoder.encode(.pong, payload: payload, into: &pong)
                output.outgoing += encrypt(pong)
            case .pong: break
            case .close(let close):
                var echo: [UInt8] = []
                encoder.encodeClose(WebSocketClose(code: close.code), into: &echo)
                output.outgoing += encrypt(echo)
                output.closed = true
            }
        }
        if let failure {
            var frame: [UInt8] = []
            encoder.encodeClose(WebSocketClose(code: failure.closeCode), into: &frame)
            output.outgoing += encrypt(frame)
            output.failure = failure.description
        }
        return output
    }

    /// Socket bytes for `packets`: as they are for TCP, one binary message for ws/wss (empty before the 101).
    mutating func wrap(_ packets: [UInt8]) -> [UInt8] {
        guard kind != .tcp else { return packets }
        guard isOpen else { return [] }
        var frame: [UInt8] = []
        encoder.encode(.binary, payload: packets, into: &frame)
        return encrypt(frame)
    }

    /// Raw frame bytes (faults that write a bad frame), encrypted for wss.
    func wrapRaw(_ frame: [UInt8]) -> [UInt8] { encrypt(frame) }

    /// wss: the client resumed an earlier TLS session.
    var isSessionReused: Bool { tls?.isSessionReused ?? false }

    /// A fault wrote the last frame: `close()` adds no close frame after it (only close_notify for wss).
    mutating func markWebSocketClosed() { isOpen = false }

    /// Bytes to write before closing: a close frame (ws/wss, once open) and close_notify (wss).
    mutating func close(_ code: WebSocketCloseCode = .goingAway, reason: String = "") -> [UInt8] {
        var bytes: [UInt8] = []
        if kind != .tcp && isOpen {
            var frame: [UInt8] = []
            encoder.encodeClose(WebSocketClose(code: code, reason: reason), into: &frame)
            bytes = encrypt(frame)
            isOpen = false
        }
        if let tls { bytes += tls.close() }
        return bytes
    }

    private func encrypt(_ plaintext: [UInt8]) -> [UInt8] {
        guard let tls else { return plaintext }
        return (try? tls.wrap(plaintext)) ?? []
    }
}
