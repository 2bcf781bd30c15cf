/// Records into a SQLite database (docs/sqlite.md): WAL, `synchronous=NORMAL`, prepared statements reused, one
/// transaction per batch — with `SinkRunner`'s batching, that is group commit: one commit for whatever
/// arrived while the previous one ran.
///
/// Exactly once: `events` has a unique index on (room, id_str) and inserts are `INSERT OR IGNORE`, so a batch
/// replayed after a crash between the commit and the spool's position update is not stored twice. Events
/// without an `id_str` (gifts, counts) have no such key; for them a replayed batch after such a crash would
/// repeat (at least once).
///
/// Threading: opened on the caller's thread (so a bad path fails at start), then used only by the runner's
/// writer thread (`SQLITE_OPEN_NOMUTEX`: one connection, one thread at a time).
public final class SQLiteSink: Sink, @unchecked Sendable {
    public let path: String
    private let sqlite: SQLiteLibrary
    private var database: SQLiteLibrary.Database?
    private var insertEvent: SQLiteLibrary.Statement?
    /// `INSERT … VALUES (…), (…), …` of `rowsPerStatement` rows: one step, one reset and one pass through the
    /// statement's prologue (transaction and schema checks, cursor opening) for that many rows.
    private var insertEvents: SQLiteLibrary.Statement?
    private let arena = BindArena()
    private var insertCount: SQLiteLibrary.Statement?
    private var begin: SQLiteLibrary.Statement?
    private var commit: SQLiteLibrary.Statement?
    private var rollback: SQLiteLibrary.Statement?
    /// Checkpoints the WAL from a second connection and thread, so no commit waits for one (SQLiteCheckpointer).
    private var checkpointer: SQLiteCheckpointer?
    /// The order rows are inserted in, reused: by room, arrival order within a room (see `write`).
    private var order: [Int] = []

    /// When the WAL is checkpointed (SQLiteCheckpointer): passes from 64 MiB, the writer copies a tail of at most
    /// 512 KiB, and checkpoints itself whatever is left from 128 MiB. Measured in docs/sqlite.md.
    static let walLimits = SQLiteCheckpointer.Limits(
        thresholdBytes: 64 << 20, tailBytes: 512 << 10, hardLimitBytes: 128 << 20)

    /// The schema's migrations as SQL text, in order (docs/sqlite.md); for tools and baselines that build the same
    /// tables.
    public static var migrationSQL: [String] { SQLiteSchema.migrations }

    /// The schema version this code writes (`PRAGMA user_version`).
    public static var schemaVersion: Int64 { Int64(SQLiteSchema.migrations.count) }

    /// Run in this order at every open (docs/sqlite.md says why each). `page_size` takes effect only on a new,
    /// empty database (an existing one keeps its own). The sink then replaces the auto-checkpoint that
    /// `wal_autocheckpoint` sets with its own WAL hook (`SQLiteCheckpointer`); the pragma stays in the list for
    /// tools and baselines that run it, where it bounds the WAL the same way (inside their commits).
    public static let pragmas = [
        "PRAGMA page_size=16384",
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA cache_size=-65536",
        "PRAGMA wal_autocheckpoint=4096",
    ]

    /// Rows per multi-row INSERT (9 parameters each; SQLite allows 32,766 since 3.32). A batch is written as
    /// full statements of this many rows, then the rest one row at a time.
    static let rowsPerStatement = 32

    static func insertSQL(rows: Int) -> String {
        let tuple = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        return "INSERT OR IGNORE INTO events (room, received_at, kind, cmd, id_str, uid, uname, text, json) VALUES "
            + Array(repeating: tuple, count: rows).joined(separator: ", ")
    }

    public convenience init(path: String) throws(PipelineError) {
        try self.init(path: path, walLimits: Self.walLimits)
    }

    /// `walLimits`: tests use small ones to see a whole checkpoint cycle in a few hundred commits.
    init(path: String, walLimits: SQLiteCheckpointer.Limits) throws(PipelineError) {
        self.path = path
        sqlite = try SQLiteLibrary.shared()
        var db: SQLiteLibrary.Database?
        let flags = SQLiteLibrary.openReadWrite | SQLiteLibrary.openCreate | SQLiteLibrary.openNoMutex
        let rc = sqlite.open_v2(path, &db, flags, nil)
        database = db
        guard rc == SQLiteLibrary.ok else {
            let message = db.map { String(cString: sqlite.errmsg($0)!) } ?? "out of memory"
            close()
            throw .sqlite(operation: "open \(path)", code: rc, message: message)
        }
        do throws(PipelineError) {
            // SQLite opens a file it cannot write read-only without saying so; a sink must write, so say it here.
            if sqlite.db_readonly(db, "main") == 1 {
                throw PipelineError.sqlite(
                    operation: "open \(path)", code: 8,
                    message: "attempt to write a readonly database (the file or its file system is read-only)")
            }
            _ = sqlite.busy_timeout(db, 5000)
            for pragma in Self.pragmas { try execute(pragma) }
            try migrate()
            insertEvent = try prepare(Self.insertSQL(rows: 1))
            insertEvents = try prepare(Self.insertSQL(rows: Self.rowsPerStatement))
            insertCount = try prepare(
                "INSERT INTO room_counts (room, received_at, kind, value) VALUES (?1, ?2, ?3, ?4)")
            begin = try prepare("BEGIN IMMEDIATE")
            commit = try prepare("COMMIT")
            rollback = try prepare("ROLLBACK")
            // An existing database keeps the page size it was made with: the limits are bytes, counted in its frames.
            let checkpointer = try SQLiteCheckpointer(
                path: path, sqlite: sqlite, limits: walLimits, pageSize: try integer("PRAGMA page_size"))
            checkpointer.install(on: db)
            self.checkpointer = checkpointer
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    public var name: String { "sqlite:\(path)" }

    /// Checkpoints run so far by the background thread and by the writer itself (tests, docs/sqlite.md).
    var checkpointsRun: (background: Int, inline: Int, tails: Int) { checkpointer?.checkpointsRun ?? (0, 0, 0) }

    public func write(_ batch: [SinkRecord]) throws(PipelineError) {
        // Rows go in grouped by room, in arrival order within each room (a stable sort), so the two indexes that
        // start with `room` get each room's new entries side by side — one descent and one leaf page for a run,
        // instead of jumping between 100 rooms' pages row by row. `id` (insertion order) stays the arrival order
        // within a room, which is all docs/sqlite.md promises of it.
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: batch.indices)
        order.sort { batch[$0].room != batch[$1].room ? batch[$0].room < batch[$1].room : $0 < $1 }
        try run(begin, "BEGIN")
        do {
            var start = 0
            let rows = Self.rowsPerStatement
            while order.count - start >= rows {
                try insert(order[start..<start + rows], of: batch, with: insertEvents, "INSERT events")
                start += rows
            }
            for index in start..<order.count {
                try insert(order[index...index], of: batch, with: insertEvent, "INSERT events")
            }
            for record in batch {
                guard let count = record.count else { continue }
                let c = insertCount
                _ = sqlite.bind_int64(c, 1, record.room)
                _ = sqlite.bind_int64(c, 2, record.receivedAt / 1_000_000)
                sqlite.bind(c, 3, record.kind)
                _ = sqlite.bind_int64(c, 4, count)
                try run(c, "INSERT room_counts")
            }
            try run(commit, "COMMIT")
        } catch {
            _ = sqlite.step(rollback)
            _ = sqlite.reset(rollback)
            throw error
        }
    }

    /// Binds `rows` (as many as the statement has VALUES tuples) and steps it once. Text is copied once into the
    /// arena and bound `SQLITE_STATIC` (no allocation and copy inside SQLite per value); every parameter is
    /// bound again before the next step, so SQLite never reads the arena's older contents.
    private func insert(
        _ rows: ArraySlice<Int>, of batch: [SinkRecord], with s: SQLiteLibrary.Statement?, _ what: String
    ) throws(PipelineError) {
        var bytes = 0
        for i in rows {
            let r = batch[i]
            bytes += r.kind.utf8.count + r.cmd.utf8.count + (r.idStr?.utf8.count ?? 0) + (r.uname?.utf8.count ?? 0)
            bytes += (r.text?.utf8.count ?? 0) + r.json.count
        }
        arena.reset(capacity: bytes)
        var p: Int32 = 0
        for i in rows {
            let r = batch[i]
            _ = sqlite.bind_int64(s, p + 1, r.room)
            _ = sqlite.bind_int64(s, p + 2, r.receivedAt / 1_000_000)
            bindStatic(s, p + 3, r.kind)
            bindStatic(s, p + 4, r.cmd)
            bindStatic(s, p + 5, r.idStr)
            sqlite.bind(s, p + 6, r.uid)
            bindStatic(s, p + 7, r.uname)
            bindStatic(s, p + 8, r.text)
            let json = r.json.withUnsafeBytes { arena.append($0) }
            _ = sqlite.bind_text(s, p + 9, json.baseAddress, Int32(json.count), SQLiteLibrary.static)
            p += 9
        }
        try run(s, what)
    }

    private func bindStatic(_ statement: SQLiteLibrary.Statement?, _ index: Int32, _ value: String?) {
        guard var value else {
            _ = sqlite.bind_null(statement, index)
            return
        }
        let copy = value.withUTF8 { arena.append(UnsafeRawBufferPointer($0)) }
        _ = sqlite.bind_text(statement, index, copy.baseAddress, Int32(copy.count), SQLiteLibrary.static)
    }

    /// Steps a prepared statement to completion and resets it for the next use.
    private func run(_ statement: SQLiteLibrary.Statement?, _ what: String) throws(PipelineError) {
        let rc = sqlite.step(statement)
        _ = sqlite.reset(statement)
        guard rc == SQLiteLibrary.done || rc == SQLiteLibrary.row else {
            throw .sqlite(operation: what, code: rc, message: errorMessage)
        }
    }

    private var errorMessage: String {
        database.flatMap { sqlite.errmsg($0) }.map { String(cString: $0) } ?? "?"
    }

    private func execute(_ sql: String) throws(PipelineError) {
        let rc = sqlite.exec(database, sql, nil, nil, nil)
        guard rc == SQLiteLibrary.ok else { throw .sqlite(operation: sql, code: rc, message: errorMessage) }
    }

    private func prepare(_ sql: String) throws(PipelineError) -> SQLiteLibrary.Statement? {
        var statement: SQLiteLibrary.Statement?
        let rc = sqlite.prepare_v2(database, sql, -1, &statement, nil)
        guard rc == SQLiteLibrary.ok else {
            throw .sqlite(operation: "prepare \(sql)", code: rc, message: errorMessage)
        }
        return statement
    }

    /// The first column of the first row of `sql` (a pragma that returns one integer).
    private func integer(_ sql: String) throws(PipelineError) -> Int64 {
        let statement = try prepare(sql)
        defer { _ = sqlite.finalize(statement) }
        guard sqlite.step(statement) == SQLiteLibrary.row else {
            throw .sqlite(operation: sql, code: -1, message: errorMessage)
        }
        return sqlite.column_int64(statement, 0)
    }

    /// Applies the migrations after the database's `user_version`, each in its own transaction with the new
    /// version; a database newer than this code is refused rather than written in a shape it does not know.
    private func migrate() throws(PipelineError) {
        let version = try integer("PRAGMA user_version")
        guard version <= Self.schemaVersion else {
            throw .invalidConfiguration(
                "\(path) has schema version \(version); this danmu knows up to \(Self.schemaVersion)")
        }
        for (index, sql) in SQLiteSchema.migrations.enumerated() where Int64(index) >= version {
            try execute("BEGIN IMMEDIATE; \(sql); PRAGMA user_version = \(index + 1); COMMIT")
        }
    }

    public func close() {
        // The hook points at the checkpointer: remove it before the checkpointer goes.
        if let database, checkpointer != nil { _ = sqlite.wal_hook(database, nil, nil) }
        checkpointer?.close()
        checkpointer = nil
        for statement in [insertEvent, insertEvents, insertCount, begin, commit, rollback] where statement != nil {
            _ = sqlite.finalize(statement)
        }
        insertEvent = nil
        insertEvents = nil
        insertCount = nil
        begin = nil
        commit = nil
        rollback = nil
        if let database { _ = sqlite.close_v2(database) }
        database = nil
    }
}

/// The bytes bound with `SQLITE_STATIC` for one statement: one allocation, grown (before any binding) to what
/// the statement's text needs, then filled front to back.
final class BindArena {
    private var base: UnsafeMutableRawPointer
    private var capacity = 4096
    private var used = 0

    init() { base = .allocate(byteCount: capacity, alignment: 16) }

    /// Empties the arena and makes room for `needed` bytes; pointers handed out before are invalid after this.
    func reset(capacity needed: Int) {
        used = 0
        guard needed > capacity else { return }
        base.deallocate()
        capacity = max(needed, 2 * capacity)
        base = .allocate(byteCount: capacity, alignment: 16)
    }

    /// Copies `bytes` in; the caller reserved room for them with `reset(capacity:)`. Never a null pointer, even
    /// for no bytes: SQLite binds a null pointer as SQL NULL, not as empty text.
    func append(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        precondition(used + bytes.count <= capacity, "BindArena: reserve before appending")
        let destination = base + used
        if let source = bytes.baseAddress, !bytes.isEmpty {
            destination.copyMemory(from: source, byteCount: bytes.count)
            used += bytes.count
        }
        return UnsafeRawBufferPointer(start: destination, count: bytes.count)
    }

    deinit { base.deallocate() }
}

/// The schema, as numbered migrations: migration i takes `user_version` i to i + 1. Append; never edit one
/// that has shipped. docs/sqlite.md documents the result.
enum SQLiteSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            room INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            cmd TEXT NOT NULL,
            id_str TEXT,
            uid INTEGER,
            uname TEXT,
            text TEXT,
            json TEXT NOT NULL
        );
        CREATE INDEX events_room_time ON events (room, received_at);
        CREATE INDEX events_uid ON events (uid) WHERE uid IS NOT NULL;
        CREATE INDEX events_kind_time ON events (kind, received_at);
        CREATE UNIQUE INDEX events_room_id_str ON events (room, id_str) WHERE id_str IS NOT NULL;
        CREATE TABLE room_counts (
            room INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            value INTEGER NOT NULL
        );
        CREATE INDEX room_counts_room_time ON room_counts (room, received_at)
        """
    ]
}
