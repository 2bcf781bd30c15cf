/// Why a WebSocket connection failed: the upgrade handshake (RFC 6455 §4.1) or the framing (§5, §7).
/// Every case is a reason to drop that room's connection and reconnect; `closeCode` is what to send first.
public struct WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        // Handshake (the server's HTTP response).
        /// The first line is not `HTTP/1.1 <3 digits> <reason>`.
        case badStatusLine(String)
        /// A well-formed response with a status other than 101 (e.g. 403 from risk control, 404 without `/sub`).
        case unexpectedStatus(Int, reason: String)
        /// A header line without a colon, or with bytes not allowed in a header.
        case malformedHeader(String)
        /// `Upgrade: websocket` missing or something else.
        case missingUpgrade
        /// `Connection: upgrade` missing.
        case missingConnectionUpgrade
        /// No `Sec-WebSocket-Accept` header.
        case missingAccept
        /// `Sec-WebSocket-Accept` is not base64(SHA-1(key + GUID)) of the key we sent.
        case wrongAccept(expected: String, received: String)
        /// The server chose an extension or subprotocol we did not offer (§4.1, items 5 and 6).
        case unrequestedExtension(String)
        /// The response head grew past the limit without its blank line.
        case headerBlockTooLarge(limit: Int)
        /// A request header value holds CR, LF or NUL (header injection), so the request was not built.
        case invalidRequestHeader(String)

        // Framing.
        /// RSV1–3 set while no extension was negotiated (§5.2).
        case reservedBitsSet(UInt8)
        case unknownOpcode(UInt8)
        /// A server must not mask (§5.1); a client must.
        case maskedFrameFromServer
        case unmaskedFrameFromClient
        case fragmentedControlFrame
        case controlFrameTooLong(Int)
        /// A 16- or 64-bit length that fits a shorter form, or a 64-bit length with the top bit set (§5.2).
        case nonMinimalLength
        case invalidLength
        case frameTooLarge(UInt64, limit: Int)
        case messageTooLarge(Int, limit: Int)
        /// A continuation frame with no message started.
        case unexpectedContinuation
        /// A new text/binary frame while a fragmented message is still open.
        case expectedContinuation
        /// A text message or close reason that is not UTF-8 (§8.1).
        case invalidUTF8
        /// A close payload of exactly one byte (§5.5.1).
        case closePayloadTooShort
        case invalidCloseCode(UInt16)
        /// A frame after the peer's close frame.
        case frameAfterClose
    }

    public var reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    /// Whether this happened before the connection was open (the HTTP upgrade).
    public var isHandshake: Bool {
        switch reason {
        case .badStatusLine, .unexpectedStatus, .malformedHeader, .missingUpgrade, .missingConnectionUpgrade,
            .missingAccept, .wrongAccept, .unrequestedExtension, .headerBlockTooLarge, .invalidRequestHeader:
            true
        default: false
        }
    }

    /// The close code to send for a framing error (§7.4.1); handshake errors have no WebSocket to close.
    public var closeCode: WebSocketCloseCode {
        switch reason {
        case .invalidUTF8: .invalidPayload
        case .frameTooLarge, .messageTooLarge: .messageTooBig
        default: .protocolError
        }
    }

    public var description: String {
        switch reason {
        case .badStatusLine(let line): "websocket handshake: bad status line \(quoted(line))"
        case .unexpectedStatus(let code, let text): "websocket handshake: server answered \(code) \(text), not 101"
        case .malformedHeader(let line): "websocket handshake: malformed header line \(quoted(line))"
        case .missingUpgrade: "websocket handshake: response lacks 'Upgrade: websocket'"
        case .missingConnectionUpgrade: "websocket handshake: response lacks 'Connection: Upgrade'"
        case .missingAccept: "websocket handshake: response lacks Sec-WebSocket-Accept"
        case .wrongAccept(let expected, let received):
            "websocket handshake: wrong Sec-WebSocket-Accept \(quoted(received)) (expected \(expected))"
        case .unrequestedExtension(let header): "websocket handshake: server chose unrequested \(header)"
        case .headerBlockTooLarge(let limit): "websocket handshake: response header block exceeds \(limit) bytes"
        case .invalidRequestHeader(let name): "websocket handshake: request header \(name) holds CR/LF/NUL"
        case .reservedBitsSet(let bits): "websocket: reserved bits \(bits) set without an extension"
        case .unknownOpcode(let op): "websocket: unknown opcode \(op)"
        case .maskedFrameFromServer: "websocket: masked frame from the server"
        case .unmaskedFrameFromClient: "websocket: unmasked frame from a client"
        case .fragmentedControlFrame: "websocket: fragmented control frame"
        case .controlFrameTooLong(let n): "websocket: control frame of \(n) bytes (max 125)"
        case .nonMinimalLength: "websocket: payload length not in its shortest form"
        case .invalidLength: "websocket: 64-bit payload length with the top bit set"
        case .frameTooLarge(let n, let limit): "websocket: frame of \(n) bytes exceeds the \(limit)-byte limit"
        case .messageTooLarge(let n, let limit): "websocket: message of \(n)+ bytes exceeds the \(limit)-byte limit"
        case .unexpectedContinuation: "websocket: continuation frame without a message"
        case .expectedContinuation: "websocket: new message while a fragmented one is open"
        case .invalidUTF8: "websocket: text or close reason is not UTF-8"
        case .closePayloadTooShort: "websocket: close payload of 1 byte"
        case .invalidCloseCode(let code): "websocket: invalid close code \(code)"
        case .frameAfterClose: "websocket: frame after the peer's close"
        }
    }
}

/// At most 80 characters, control bytes escaped: the line came from the network.
func quoted(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars.prefix(80) {
        out += scalar.value < 0x20 || scalar.value == 0x7F ? "\\x\(String(scalar.value, radix: 16))" : String(scalar)
    }
    return "\"" + out + (text.unicodeScalars.count > 80 ? "…\"" : "\"")
}
