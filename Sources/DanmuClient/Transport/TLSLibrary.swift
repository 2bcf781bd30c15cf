import Glibc

/// Why TLS could not be set up or a TLS connection failed.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// `dlopen("libssl.so.3")` failed: OpenSSL 3 is not installed (Debian/Ubuntu package `libssl3`).
        case libraryMissing(String)
        /// The library loaded but lacks a function we call (an OpenSSL older than 3.0?).
        case symbolMissing(String)
        /// The CA file given for verification could not be loaded.
        case caFileUnusable(String, detail: String)
        /// The peer's certificate was refused: untrusted chain, wrong host name, expired, …
        /// (`code` is X509_V_ERR_*, `detail` OpenSSL's text for it).
        case certificateRejected(code: Int, detail: String)
        /// Any other handshake or record-layer failure, with OpenSSL's error queue text.
        case protocolFailure(String)
        /// An OpenSSL call that allocates returned NULL.
        case setupFailed(String)
    }

    public var reason: Reason
    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .libraryMissing(let detail):
            "tls: cannot load libssl.so.3 (install the Debian/Ubuntu package 'libssl3'): \(detail)"
        case .symbolMissing(let name): "tls: libssl.so.3 lacks \(name) (OpenSSL 3.0 or later is needed)"
        case .caFileUnusable(let path, let detail): "tls: cannot use CA file \(path): \(detail)"
        case .certificateRejected(let code, let detail):
            "tls: server certificate rejected: \(detail) (X509 error \(code))"
        case .protocolFailure(let detail): "tls: \(detail)"
        case .setupFailed(let call): "tls: \(call) failed"
        }
    }
}

/// libssl.so.3 (and the libcrypto it loads) opened with dlopen at run time: no link-time dependency, so a
/// machine without OpenSSL still runs TCP and ws, and asking for wss there is a typed error, not a crash.
/// Function names are OpenSSL's; the types are `@convention(c)` with every pointer opaque.
public final class TLSLibrary: @unchecked Sendable {  // immutable after init; libssl itself is thread-safe (3.x)
    typealias Ptr = OpaquePointer
    // Constants from <openssl/ssl.h> 3.x.
    static let SSL_ERROR_SSL: Int32 = 1
    static let SSL_ERROR_WANT_READ: Int32 = 2
    static let SSL_ERROR_WANT_WRITE: Int32 = 3
    static let SSL_ERROR_SYSCALL: Int32 = 5
    static let SSL_ERROR_ZERO_RETURN: Int32 = 6
    static let SSL_VERIFY_NONE: Int32 = 0
    static let SSL_VERIFY_PEER: Int32 = 1
    static let SSL_CTRL_MODE: Int32 = 33
    static let SSL_CTRL_SET_SESS_CACHE_MODE: Int32 = 44
    static let SSL_CTRL_SET_TLSEXT_HOSTNAME: Int32 = 55
    static let SSL_CTRL_SET_MIN_PROTO_VERSION: Int32 = 123
    static let TLSEXT_NAMETYPE_host_name: Int = 0
    static let TLS1_2_VERSION: Int = 0x0303
    static let SSL_MODE_ENABLE_PARTIAL_WRITE: Int = 0x1
    static let SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: Int = 0x2
    static let SSL_MODE_RELEASE_BUFFERS: Int = 0x10
    static let SSL_SESS_CACHE_CLIENT: Int = 0x1
    static let SSL_SESS_CACHE_NO_INTERNAL_STORE: Int = 0x200
    static let SSL_FILETYPE_PEM: Int32 = 1

    let TLS_client_method: @convention(c) () -> Ptr?
    let TLS_server_method: @convention(c) () -> Ptr?
    let SSL_CTX_new: @convention(c) (Ptr?) -> Ptr?
    let SSL_CTX_free: @convention(c) (Ptr?) -> Void
    let SSL_CTX_ctrl: @convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let SSL_CTX_set_default_verify_paths: @convention(c) (Ptr?) -> Int32
    let SSL_CTX_load_verify_locations: @convention(c) (Ptr?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    let SSL_CTX_set_verify: @convention(c) (Ptr?, Int32, UnsafeMutableRawPointer?) -> Void
    let SSL_CTX_use_certificate_chain_file: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_CTX_use_PrivateKey_file: @convention(c) (Ptr?, UnsafePointer<CChar>?, Int32) -> Int32
    let SSL_new: @convention(c) (Ptr?) -> Ptr?
    let SSL_free: @convention(c) (Ptr?) -> Void
    let SSL_ctrl: @convention(c) (Ptr?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    let SSL_set1_host: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_get0_param: @convention(c) (Ptr?) -> Ptr?
    let X509_VERIFY_PARAM_set1_ip_asc: @convention(c) (Ptr?, UnsafePointer<CChar>?) -> Int32
    let SSL_get_servername: @convention(c) (Ptr?, Int32) -> UnsafePointer<CChar>?
    let SSL_set_connect_state: @convention(c) (Ptr?) -> Void
    let SSL_set_accept_state: @convention(c) (Ptr?) -> Void
    let SSL_set_bio: @convention(c) (Ptr?, Ptr?, Ptr?) -> Void
    let SSL_do_handshake: @convention(c) (Ptr?) -> Int32
    let SSL_read: @convention(c) (Ptr?, UnsafeMutableRawPointer?, Int32) -> Int32
    let SSL_write: @convention(c) (Ptr?, UnsafeRawPointer?, Int32) -> Int32
    let SSL_get_error: @convention(c) (Ptr?, Int32) -> Int32
    let SSL_shutdown: @convention(c) (Ptr?) -> Int32
    let SSL_get_verify_result: @convention(c) (Ptr?) -> Int
    let SSL_get1_session: @convention(c) (Ptr?) -> Ptr?
    let SSL_set_session: @convention(c) (Ptr?, Ptr?) -> Int32
    let SSL_session_reused: @convention(c) (Ptr?) -> Int32
    let SSL_SESSION_free: @convention(c) (Ptr?) -> Void
    let SSL_SESSION_is_resumable: @convention(c) (Ptr?) -> Int32
    let SSL_get_version: @convention(c) (Ptr?) -> UnsafePointer<CChar>?
    let BIO_new: @convention(c) (Ptr?) -> Ptr?
    let BIO_s_mem: @convention(c) () -> Ptr?
    let BIO_read: @convention(c) (Ptr?, UnsafeMutableRawPointer?, Int32) -> Int32
    let BIO_write: @convention(c) (Ptr?, UnsafeRawPointer?, Int32) -> Int32
    let BIO_ctrl_pending: @convention(c) (Ptr?) -> Int
    let BIO_free: @convention(c) (Ptr?) -> Int32
    let ERR_get_error: @convention(c) () -> UInt
    let ERR_error_string_n: @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void
    let ERR_clear_error: @convention(c) () -> Void
    let X509_verify_cert_error_string: @convention(c) (Int) -> UnsafePointer<CChar>?

    private let handle: UnsafeMutableRawPointer

    /// The process-wide library, loaded on first use (a Swift global: initialized once, thread-safely).
    public static func shared() throws(TLSError) -> TLSLibrary { try sharedLoad.get() }
    private static let sharedLoad: Result<TLSLibrary, TLSError> = Result { () throws(TLSError) in try TLSLibrary() }

    /// Opens `path` (default: the soname, found through the normal loader search path).
    public init(path: String = "libssl.so.3") throws(TLSError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw TLSError(.libraryMissing(dlerror().map { String(cString: $0) } ?? path))
        }
        self.handle = handle
        // dlsym on the libssl handle also searches its dependencies, so libcrypto's ERR_/X509_/BIO_ resolve too.
        func symbol<F>(_ name: String) throws(TLSError) -> F {
            guard let address = dlsym(handle, name) else { throw TLSError(.symbolMissing(name)) }
            return unsafeBitCast(address, to: F.self)
        }
        do {
            TLS_client_method = try symbol("TLS_client_method")
            TLS_server_method = try symbol("TLS_server_method")
            SSL_CTX_new = try symbol("SSL_CTX_new")
            SSL_CTX_free = try symbol("SSL_CTX_free")
            SSL_CTX_ctrl = try symbol("SSL_CTX_ctrl")
            SSL_CTX_set_default_verify_paths = try symbol("SSL_CTX_set_default_verify_paths")
            SSL_CTX_load_verify_locations = try symbol("SSL_CTX_load_verify_locations")
            SSL_CTX_set_verify = try symbol("SSL_CTX_set_verify")
            SSL_CTX_use_certificate_chain_file = try symbol("SSL_CTX_use_certificate_chain_file")
            SSL_CTX_use_PrivateKey_file = try symbol("SSL_CTX_use_PrivateKey_file")
            SSL_new = try symbol("SSL_new")
            SSL_free = try symbol("SSL_free")
            SSL_ctrl = try symbol("SSL_ctrl")
            SSL_set1_host = try symbol("SSL_set1_host")
            SSL_get0_param = try symbol("SSL_get0_param")
            X509_VERIFY_PARAM_set1_ip_asc = try symbol("X509_VERIFY_PARAM_set1_ip_asc")
            SSL_get_servername = try symbol("SSL_get_servername")
            SSL_set_connect_state = try symbol("SSL_set_connect_state")
            SSL_set_accept_state = try symbol("SSL_set_accept_state")
            SSL_set_bio = try symbol("SSL_set_bio")
            SSL_do_handshake = try symbol("SSL_do_handshake")
            SSL_read = try symbol("SSL_read")
            SSL_write = try symbol("SSL_write")
            SSL_get_error = try symbol("SSL_get_error")
            SSL_shutdown = try symbol("SSL_shutdown")
            SSL_get_verify_result = try symbol("SSL_get_verify_result")
            SSL_get1_session = try symbol("SSL_get1_session")
            SSL_set_session = try symbol("SSL_set_session")
            SSL_session_reused = try symbol("SSL_session_reused")
            SSL_SESSION_free = try symbol("SSL_SESSION_free")
            SSL_SESSION_is_resumable = try symbol("SSL_SESSION_is_resumable")
            SSL_get_version = try symbol("SSL_get_version")
            BIO_new = try symbol("BIO_new")
            BIO_s_mem = try symbol("BIO_s_mem")
            BIO_read = try symbol("BIO_read")
            BIO_write = try symbol("BIO_write")
            BIO_ctrl_pending = try symbol("BIO_ctrl_pending")
            BIO_free = try symbol("BIO_free")
            ERR_get_error = try symbol("ERR_get_error")
            ERR_error_string_n = try symbol("ERR_error_string_n")
            ERR_clear_error = try symbol("ERR_clear_error")
            X509_verify_cert_error_string = try symbol("X509_verify_cert_error_string")
        } catch {
            dlclose(handle)
            throw error
        }
    }

    // Never dlclose'd once in use: contexts and sessions may outlive any one owner, and unloading libssl while
    // its atexit handlers are registered crashes at exit.

    /// Drains OpenSSL's (thread-local) error queue into one line; `fallback` when it is empty.
    func errorQueueText(_ fallback: String) -> String {
        var parts: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return parts.isEmpty ? fallback : parts.joined(separator: "; ")
    }
}
