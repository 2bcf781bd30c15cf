/// One TLS connection as a connection layer over memory BIOs: the reactor keeps doing the socket I/O, this
/// value only turns ciphertext into plaintext (`feed`) and plaintext into ciphertext (`wrap`). The handshake is
/// non-blocking: each `feed` runs SSL_do_handshake until it wants more input (SSL_ERROR_WANT_READ); whatever it
/// produced is in `Output.outgoing` for the caller to write. Plaintext wrapped before the handshake ends is
/// kept and sent as soon as it completes, so a WebSocket upgrade request can be queued right after `start()`.
///
/// Loop-confined (not Sendable): an SSL object must not be used from two threads at once.
public final class TLSLayer {
    public enum State: Equatable, Sendable {
        case handshaking
        case open
        /// The peer sent close_notify, or we did.
        case closed
    }

    public struct Output: Sendable {
        public var plaintext: [UInt8] = []
        /// Ciphertext to write: handshake messages, alerts, the queued plaintext after the handshake.
        public var outgoing: [UInt8] = []
        /// Set by the feed that completed the handshake.
        public var handshakeCompleted = false
        /// The peer's close_notify arrived.
        public var closed = false
    }

    public private(set) var state = State.handshaking
    public let context: TLSContext
    private let library: TLSLibrary
    private let ssl: OpaquePointer
    /// Ciphertext in (we write, SSL reads) and out (SSL writes, we read); owned by `ssl` after SSL_set_bio.
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private var pendingPlaintext: [UInt8] = []

    /// A client connection to `serverName`: sent as SNI and, unless verification is off, checked against the
    /// certificate. `session` (from a previous connection's `session`) asks for resumption.
    public convenience init(context: TLSContext, serverName: String, session: TLSSession? = nil) throws(TLSError) {
        precondition(!context.isServer, "a client TLSLayer needs a client TLSContext")
        try self.init(context: context)
        let lib = library
        // SSL_set_tlsext_host_name is a macro:
        // SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, name).
        // RFC 6066 §3 forbids IP literals in SNI.
        if !Self.isIPLiteral(serverName) {
            let ok = serverName.withCString { name in
                lib.SSL_ctrl(
                    ssl, TLSLibrary.SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSLibrary.TLSEXT_NAMETYPE_host_name,
                    UnsafeMutableRawPointer(mutating: name))
            }
            if ok != 1 { throw TLSError(.setupFailed("SSL_set_tlsext_host_name")) }
        }
        if context.verification != .insecureNoVerification {
            if Self.isIPLiteral(serverName) {
                // An address is checked against the certificate's iPAddress SANs (RFC 6125 §1.7.2), never as a
                // DNS name. OpenSSL 3's SSL_set1_host spots a bare "127.0.0.1" itself, but takes a URL's "[::1]"
                // for a DNS name (hostname mismatch against IP:::1): say it explicitly, brackets stripped.
                guard let parameters = lib.SSL_get0_param(ssl),
                    lib.X509_VERIFY_PARAM_set1_ip_asc(parameters, Self.unbracketed(serverName)) == 1
                else { throw TLSError(.setupFailed("X509_VERIFY_PARAM_set1_ip_asc(\(serverName))")) }
            } else if lib.SSL_set1_host(ssl, serverName) != 1 {
                throw TLSError(.setupFailed("SSL_set1_host"))
            }
        }
        if let session, lib.SSL_set_session(ssl, session.session) != 1 {
            throw TLSError(.setupFailed("SSL_set_session"))
        }
        lib.SSL_set_connect_state(ssl)
    }

    /// A server connection (the simulator's wss endpoint).
    public convenience init(serverContext: TLSContext) throws(TLSError) {
        precondition(serverContext.isServer, "a server TLSLayer needs a server TLSContext")
        try self.init(context: serverContext)
        library.SSL_set_accept_state(ssl)
    }

    private init(context: TLSContext) throws(TLSError) {
        self.context = context
        library = context.library
        guard let ssl = library.SSL_new(context.context) else { throw TLSError(.setupFailed("SSL_new")) }
        guard let readBIO = library.BIO_new(library.BIO_s_mem()) else {
            library.SSL_free(ssl)
            throw TLSError(.setupFailed("BIO_new"))
        }
        guard let writeBIO = library.BIO_new(library.BIO_s_mem()) else {
            _ = library.BIO_free(readBIO)
            library.SSL_free(ssl)
            throw TLSError(.setupFailed("BIO_new"))
        }
        // An empty memory BIO answers reads with -1 and the retry flag (its default), which SSL reports as
        // SSL_ERROR_WANT_READ: exactly "wait for the reactor to read more".
        library.SSL_set_bio(ssl, readBIO, writeBIO)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
    }

    deinit { library.SSL_free(ssl) }  // frees both BIOs

    /// Starts the handshake: a client's ClientHello (empty for a server, which waits for it).
    public func start() throws(TLSError) -> [UInt8] {
        var output = Output()
        try advance(&output)
        return output.outgoing
    }

    /// Takes ciphertext read from the socket.
    public func feed(_ ciphertext: UnsafeRawBufferPointer) throws(TLSError) -> Output {
        var output = Output()
        var offset = 0
        while offset < ciphertext.count {
            let chunk = min(ciphertext.count - offset, Int(Int32.max))
            let written = library.BIO_write(readBIO, ciphertext.baseAddress! + offset, Int32(chunk))
            if written <= 0 { throw TLSError(.setupFailed("BIO_write")) }
            offset += Int(written)
        }
        try advance(&output)
        return output
    }

    public func feed(_ ciphertext: [UInt8]) throws(TLSError) -> Output {
        let result = ciphertext.withUnsafeBytes { raw in Result { () throws(TLSError) in try feed(raw) } }
        return try result.get()
    }

    /// Encrypts `plaintext` (queued until the handshake completes; then part of a later `Output.outgoing`).
    public func wrap(_ plaintext: some Collection<UInt8>) throws(TLSError) -> [UInt8] {
        guard state != .closed else { return [] }
        pendingPlaintext.append(contentsOf: plaintext)
        guard state == .open else { return [] }
        var output = Output()
        try flushPending(&output)
        drainWriteBIO(into: &output.outgoing)
        return output.outgoing
    }

    /// close_notify, to write before closing the socket.
    public func close() -> [UInt8] {
        guard state != .closed else { return [] }
        state = .closed
        library.ERR_clear_error()
        _ = library.SSL_shutdown(ssl)
        var bytes: [UInt8] = []
        drainWriteBIO(into: &bytes)
        return bytes
    }

    /// Whether the server accepted the offered session (an abbreviated handshake).
    public var isSessionReused: Bool { library.SSL_session_reused(ssl) == 1 }

    /// "TLSv1.3", "TLSv1.2".
    public var protocolVersion: String { library.SSL_get_version(ssl).map { String(cString: $0) } ?? "?" }

    /// The session to offer on the next connection. With TLS 1.3 the ticket arrives after the handshake, with
    /// the first records read, so take it after some data has been received (or at close).
    public var session: TLSSession? {
        guard let session = library.SSL_get1_session(ssl) else { return nil }
        return TLSSession(library: library, session: session)
    }

    /// Runs the handshake and/or reads plaintext as far as the buffered ciphertext allows.
    private func advance(_ output: inout Output) throws(TLSError) {
        if state == .handshaking {
            library.ERR_clear_error()
            let result = library.SSL_do_handshake(ssl)
            if result == 1 {
                state = .open
                output.handshakeCompleted = true
                try flushPending(&output)
            } else {
                let code = library.SSL_get_error(ssl, result)
                if code != TLSLibrary.SSL_ERROR_WANT_READ && code != TLSLibrary.SSL_ERROR_WANT_WRITE {
                    // Drain first: the alert we send (e.g. bad_certificate) belongs to the caller's last write.
                    drainWriteBIO(into: &output.outgoing)
                    throw handshakeError(code)
                }
            }
        }
        if state == .open { try readPlaintext(&output) }
        drainWriteBIO(into: &output.outgoing)
    }

    private func readPlaintext(_ output: inout Output) throws(TLSError) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            library.ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { library.SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                output.plaintext += buffer[..<Int(count)]
                continue
            }
            let code = library.SSL_get_error(ssl, count)
            switch code {
            case TLSLibrary.SSL_ERROR_WANT_READ, TLSLibrary.SSL_ERROR_WANT_WRITE: return
            case TLSLibrary.SSL_ERROR_ZERO_RETURN:
                // Answer the peer's close_notify with ours (drained into `outgoing` by the caller): a server
                // such as Python's asyncio otherwise waits for it until its shutdown timeout.
                state = .closed
                output.closed = true
                library.ERR_clear_error()
                _ = library.SSL_shutdown(ssl)
                return
            default:
                throw TLSError(.protocolFailure(library.errorQueueText("SSL_read failed (SSL error \(code))")))
            }
        }
    }

    private func flushPending(_ output: inout Output) throws(TLSError) {
        guard !pendingPlaintext.isEmpty else { return }
        library.ERR_clear_error()
        let count = pendingPlaintext.withUnsafeBytes { library.SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        // A memory BIO never fills up and partial writes are off, so success writes everything.
        if count <= 0 {
            let code = library.SSL_get_error(ssl, count)
            throw TLSError(.protocolFailure(library.errorQueueText("SSL_write failed (SSL error \(code))")))
        }
        pendingPlaintext = []
    }

    private func drainWriteBIO(into bytes: inout [UInt8]) {
        while true {
            let pending = library.BIO_ctrl_pending(writeBIO)
            if pending <= 0 { return }
            let start = bytes.count
            bytes += repeatElement(0, count: pending)
            let count = bytes.withUnsafeMutableBytes {
                library.BIO_read(writeBIO, $0.baseAddress! + start, Int32(pending))
            }
            bytes.removeLast(pending - max(Int(count), 0))
            if count <= 0 { return }
        }
    }

    /// A verification failure names the certificate problem; anything else carries OpenSSL's error queue.
    private func handshakeError(_ code: Int32) -> TLSError {
        let verify = library.SSL_get_verify_result(ssl)
        if verify != 0 {  // X509_V_OK
            library.ERR_clear_error()
            let detail = library.X509_verify_cert_error_string(verify).map { String(cString: $0) } ?? "?"
            return TLSError(.certificateRejected(code: verify, detail: detail))
        }
        return TLSError(.protocolFailure(library.errorQueueText("handshake failed (SSL error \(code))")))
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        name.contains(":") || (!name.isEmpty && name.allSatisfy { $0 == "." || $0.isNumber })
    }

    /// "[::1]" → "::1": X509_VERIFY_PARAM_set1_ip_asc takes the address without URL brackets.
    private static func unbracketed(_ name: String) -> String {
        name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
    }

    /// Server side: the host name the client sent as SNI (SSL_get_servername), nil when it sent none (as
    /// for an IP literal, RFC 6066 §3).
    public var requestedServerName: String? {
        library.SSL_get_servername(ssl, Int32(TLSLibrary.TLSEXT_NAMETYPE_host_name)).map { String(cString: $0) }
    }
}
