/// Errors of the pipeline's setup and of its sinks. Each names what failed and, where it helps, the fix.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// A stage or sink was configured with a value it cannot use.
    case invalidConfiguration(String)
    /// A system library could not be opened (`dlopen`): carries the library, the Debian package and dlerror().
    case missingLibrary(library: String, package: String, reason: String)
    /// SQLite returned an error: the call, the result code and `sqlite3_errmsg`.
    case sqlite(operation: String, code: Int32, message: String)
    /// A file operation of a sink or spool failed: the call, the path and errno.
    case file(operation: String, path: String, errno: Int32)
    /// The sink could not take the batch; it will be retried (a test double's failure, a server that is down).
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): return why
        case .missingLibrary(let library, let package, let reason):
            return "cannot load \(library) (\(reason)); install the Debian package \(package)"
        case .sqlite(let operation, let code, let message): return "sqlite \(operation) failed (\(code)): \(message)"
        case .file(let operation, let path, let errno): return "\(operation) \(path) failed: errno \(errno)"
        case .unavailable(let why): return "sink unavailable: \(why)"
        }
    }
}
