/// How a client checks the server's certificate.
public enum TLSVerification: Equatable, Sendable {
    /// The system CA store (SSL_CTX_set_default_verify_paths) and the host name (SSL_set1_host). The default.
    case systemTrustStore
    /// Only the CAs in this PEM file (tests, private deployments), with the host-name check.
    case caFile(String)
    /// No certificate or host-name check at all (SSL_VERIFY_NONE). Anyone on the path can read and alter the
    /// stream; the CLI must warn loudly when this is chosen.
    case insecureNoVerification
}

/// One SSL_CTX: the configuration shared by many connections. Thread-safe once built (OpenSSL 3 locks the
/// CTX internally), so one context serves every room.
public final class TLSContext: @unchecked Sendable {  // the SSL_CTX is only read after init
    let library: TLSLibrary
    let context: OpaquePointer
    public let verification: TLSVerification
    public let isServer: Bool

    /// A client context: TLS 1.2 or later, verification as chosen, SSL_MODE_RELEASE_BUFFERS so an idle
    /// connection keeps no 16 KiB record buffers (ARCHITECTURE.md: an idle connection holds no buffer).
    public convenience init(verification: TLSVerification = .systemTrustStore) throws(TLSError) {
        try self.init(library: try TLSLibrary.shared(), verification: verification)
    }

    public init(library: TLSLibrary, verification: TLSVerification) throws(TLSError) {
        self.library = library
        self.verification = verification
        isServer = false
        guard let method = library.TLS_client_method(), let context = library.SSL_CTX_new(method) else {
            throw TLSError(.setupFailed("SSL_CTX_new"))
        }
        self.context = context
        try Self.setCommonOptions(library, context)
        switch verification {
        case .systemTrustStore:
            if library.SSL_CTX_set_default_verify_paths(context) != 1 {
                throw TLSError(.setupFailed("SSL_CTX_set_default_verify_paths"))
            }
            library.SSL_CTX_set_verify(context, TLSLibrary.SSL_VERIFY_PEER, nil)
        case .caFile(let path):
            library.ERR_clear_error()
            if library.SSL_CTX_load_verify_locations(context, path, nil) != 1 {
                throw TLSError(.caFileUnusable(path, detail: library.errorQueueText("unreadable or not PEM")))
            }
            library.SSL_CTX_set_verify(context, TLSLibrary.SSL_VERIFY_PEER, nil)
        case .insecureNoVerification:
            library.SSL_CTX_set_verify(context, TLSLibrary.SSL_VERIFY_NONE, nil)
        }
    }

    /// A server context (the simulator's wss endpoint, tests): a PEM certificate chain and its private key.
    public init(library given: TLSLibrary? = nil, certificateChainFile: String, privateKeyFile: String) throws(TLSError)
    {
        let library: TLSLibrary
        if let given { library = given } else { library = try TLSLibrary.shared() }
        self.library = library
        verification = .insecureNoVerification
        isServer = true
        guard let method = library.TLS_server_method(), let context = library.SSL_CTX_new(method) else {
            throw TLSError(.setupFailed("SSL_CTX_new"))
        }
        self.context = context
        try Self.setCommonOptions(library, context)
        library.ERR_clear_error()
        if library.SSL_CTX_use_certificate_chain_file(context, certificateChainFile) != 1 {
            throw TLSError(.caFileUnusable(certificateChainFile, detail: library.errorQueueText("not a PEM chain")))
        }
        if library.SSL_CTX_use_PrivateKey_file(context, privateKeyFile, TLSLibrary.SSL_FILETYPE_PEM) != 1 {
            throw TLSError(.caFileUnusable(privateKeyFile, detail: library.errorQueueText("not a PEM key")))
        }
    }

    private static func setCommonOptions(_ library: TLSLibrary, _ context: OpaquePointer) throws(TLSError) {
        // SSL_CTX_set_mode and SSL_CTX_set_min_proto_version are macros over SSL_CTX_ctrl.
        _ = library.SSL_CTX_ctrl(context, TLSLibrary.SSL_CTRL_MODE, TLSLibrary.SSL_MODE_RELEASE_BUFFERS, nil)
        if library.SSL_CTX_ctrl(context, TLSLibrary.SSL_CTRL_SET_MIN_PROTO_VERSION, TLSLibrary.TLS1_2_VERSION, nil)
            != 1
        {
            throw TLSError(.setupFailed("SSL_CTX_set_min_proto_version"))
        }
    }

    deinit { library.SSL_CTX_free(context) }
}

/// A TLS session to resume on the next connection to the same host (SSL_get1_session / SSL_set_session):
/// the reconnect then skips the certificate exchange. Reference-counted by OpenSSL; freed with the last owner.
public final class TLSSession: @unchecked Sendable {  // an SSL_SESSION is immutable once handed out
    let library: TLSLibrary
    let session: OpaquePointer

    init(library: TLSLibrary, session: OpaquePointer) {
        self.library = library
        self.session = session
    }

    /// Whether the server gave a ticket or id this session can be resumed with.
    public var isResumable: Bool { library.SSL_SESSION_is_resumable(session) == 1 }

    deinit { library.SSL_SESSION_free(session) }
}
