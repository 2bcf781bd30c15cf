import Glibc

/// The part of SQLite's C API the sink uses, looked up in the system's `libsqlite3.so.0` with `dlopen` at run
/// time (no link-time dependency). Each pointer's type is the C prototype from sqlite3.h.
final class SQLiteLibrary: @unchecked Sendable {
    typealias Database = OpaquePointer
    typealias Statement = OpaquePointer

    static let libraryName = "libsqlite3.so.0"
    static let package = "libsqlite3-0"

    // Result codes (sqlite3.h).
    static let ok: Int32 = 0
    static let row: Int32 = 100
    static let done: Int32 = 101
    static let busy: Int32 = 5
    /// SQLITE_CHECKPOINT_PASSIVE: copy what can be copied without waiting for any lock.
    static let checkpointPassive: Int32 = 0
    // sqlite3_open_v2 flags.
    static let openReadWrite: Int32 = 0x0000_0002
    static let openCreate: Int32 = 0x0000_0004
    static let openNoMutex: Int32 = 0x0000_8000
    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the bind returns.
    static let transient = -1
    /// SQLITE_STATIC: SQLite keeps the pointer; the bytes must stay put until the parameter is bound again or
    /// the statement is finalized (the sink binds from its own arena and rebinds before every step).
    static let `static` = 0

    // int sqlite3_open_v2(const char *filename, sqlite3 **ppDb, int flags, const char *zVfs);
    let open_v2:
        @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<Database?>?, Int32, UnsafePointer<CChar>?) -> Int32
    // int sqlite3_close_v2(sqlite3*);
    let close_v2: @convention(c) (Database?) -> Int32
    // int sqlite3_exec(sqlite3*, const char *sql, int (*callback)(void*,int,char**,char**), void *, char **errmsg);
    let exec: @convention(c) (Database?, UnsafePointer<CChar>?, OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    // int sqlite3_prepare_v2(sqlite3 *db, const char *zSql, int nByte, sqlite3_stmt **ppStmt, const char **pzTail);
    let prepare_v2:
        @convention(c) (Database?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Statement?>?, OpaquePointer?) ->
            Int32
    // int sqlite3_step(sqlite3_stmt*); int sqlite3_reset(sqlite3_stmt*); int sqlite3_finalize(sqlite3_stmt*);
    let step: @convention(c) (Statement?) -> Int32
    let reset: @convention(c) (Statement?) -> Int32
    let finalize: @convention(c) (Statement?) -> Int32
    // int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
    let bind_int64: @convention(c) (Statement?, Int32, Int64) -> Int32
    // int sqlite3_bind_null(sqlite3_stmt*, int);
    let bind_null: @convention(c) (Statement?, Int32) -> Int32
    // int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*)); the destructor as an integer
    // because the sink only passes SQLITE_STATIC (0) or SQLITE_TRANSIENT ((void(*)(void*))-1).
    let bind_text: @convention(c) (Statement?, Int32, UnsafeRawPointer?, Int32, Int) -> Int32
    // sqlite3_int64 sqlite3_column_int64(sqlite3_stmt*, int iCol);
    let column_int64: @convention(c) (Statement?, Int32) -> Int64
    // const char *sqlite3_errmsg(sqlite3*);
    let errmsg: @convention(c) (Database?) -> UnsafePointer<CChar>?
    // int sqlite3_busy_timeout(sqlite3*, int ms);
    let busy_timeout: @convention(c) (Database?, Int32) -> Int32
    // int sqlite3_db_readonly(sqlite3 *db, const char *zDbName);  1 read-only, 0 not, -1 no such database
    let db_readonly: @convention(c) (Database?, UnsafePointer<CChar>?) -> Int32
    /// int (*)(void *context, sqlite3 *db, const char *zDb, int nFrame): called after each commit in WAL mode.
    typealias WALHook = @convention(c) (UnsafeMutableRawPointer?, Database?, UnsafePointer<CChar>?, Int32) -> Int32
    // void *sqlite3_wal_hook(sqlite3*, int(*)(void *,sqlite3*,const char*,int), void*);  replaces the
    // auto-checkpoint hook (`wal_autocheckpoint`) of that connection.
    let wal_hook: @convention(c) (Database?, WALHook?, UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    // int sqlite3_wal_checkpoint_v2(sqlite3 *db, const char *zDb, int eMode, int *pnLog, int *pnCkpt);
    let wal_checkpoint_v2:
        @convention(c) (
            Database?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?
        )
            -> Int32

    private let handle: UnsafeMutableRawPointer

    /// Opens the library once per process; a missing one is `PipelineError.missingLibrary` naming the package.
    static func shared() throws(PipelineError) -> SQLiteLibrary {
        switch loaded {
        case .success(let library): return library
        case .failure(let error): throw error
        }
    }

    private static let loaded: Result<SQLiteLibrary, PipelineError> = {
        do throws(PipelineError) {
            return .success(try SQLiteLibrary(name: libraryName))
        } catch {
            return .failure(error)
        }
    }()

    init(name: String) throws(PipelineError) {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw .missingLibrary(library: name, package: Self.package, reason: why)
        }
        self.handle = handle
        func symbol<T>(_ symbolName: String, as type: T.Type) throws(PipelineError) -> T {
            guard let address = dlsym(handle, symbolName) else {
                throw .missingLibrary(library: name, package: Self.package, reason: "no symbol \(symbolName)")
            }
            return unsafeBitCast(address, to: type)
        }
        open_v2 = try symbol("sqlite3_open_v2", as: type(of: open_v2))
        close_v2 = try symbol("sqlite3_close_v2", as: type(of: close_v2))
        exec = try symbol("sqlite3_exec", as: type(of: exec))
        prepare_v2 = try symbol("sqlite3_prepare_v2", as: type(of: prepare_v2))
        step = try symbol("sqlite3_step", as: type(of: step))
        reset = try symbol("sqlite3_reset", as: type(of: reset))
        finalize = try symbol("sqlite3_finalize", as: type(of: finalize))
        bind_int64 = try symbol("sqlite3_bind_int64", as: type(of: bind_int64))
        bind_null = try symbol("sqlite3_bind_null", as: type(of: bind_null))
        bind_text = try symbol("sqlite3_bind_text", as: type(of: bind_text))
        column_int64 = try symbol("sqlite3_column_int64", as: type(of: column_int64))
        errmsg = try symbol("sqlite3_errmsg", as: type(of: errmsg))
        busy_timeout = try symbol("sqlite3_busy_timeout", as: type(of: busy_timeout))
        db_readonly = try symbol("sqlite3_db_readonly", as: type(of: db_readonly))
        wal_hook = try symbol("sqlite3_wal_hook", as: type(of: wal_hook))
        wal_checkpoint_v2 = try symbol("sqlite3_wal_checkpoint_v2", as: type(of: wal_checkpoint_v2))
    }
}

extension SQLiteLibrary {
    /// Binds text that SQLite copies (`SQLITE_TRANSIENT`), or NULL for nil.
    func bind(_ statement: Statement?, _ index: Int32, _ value: String?) {
        guard var value else {
            _ = bind_null(statement, index)
            return
        }
        value.withUTF8 { utf8 in
            _ = bind_text(statement, index, utf8.baseAddress, Int32(utf8.count), Self.transient)
        }
    }

    /// Binds an integer, or NULL for nil.
    func bind(_ statement: Statement?, _ index: Int32, _ value: Int64?) {
        if let value { _ = bind_int64(statement, index, value) } else { _ = bind_null(statement, index) }
    }
}
