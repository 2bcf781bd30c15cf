import EventLoop

/// Moves the sink's WAL back into the database file off the writer's path (docs/sqlite.md, "Checkpoints").
///
/// SQLite's own auto-checkpoint runs inside the `COMMIT` that crosses `wal_autocheckpoint` pages: that commit
/// copies every page of the WAL into the database and fsyncs both files before it returns — at 16 KiB pages and
/// thousands of pages, hundreds of milliseconds during which the writer acknowledges nothing. Here the writer's
/// connection has a `sqlite3_wal_hook` instead (which replaces the auto-checkpoint): after a commit that leaves
/// `threshold` frames or more in the WAL, it wakes this object's thread, which runs a PASSIVE checkpoint on a
/// second connection while the writer keeps committing (WAL lets one checkpointer and one writer run at once).
///
/// The WAL restarts from its beginning at the first write transaction after a checkpoint that copied all of it.
/// A writer that never pauses could outrun that; so from `hardLimit` frames on, the writer itself runs a PASSIVE
/// checkpoint after its commit once no background pass is running (it copies only what that pass left), waiting
/// for the pass only at twice the limit: the WAL stays under `2 × hardLimit` frames plus one batch, and in
/// practice near `hardLimit` plus what one pass lets through.
final class SQLiteCheckpointer: @unchecked Sendable {
    private struct State {
        var requested = false
        var closing = false
        var running = false
    }

    /// Frames in the WAL after a commit that start a background checkpoint.
    let threshold: Int32
    /// Frames after which the writer checkpoints itself (see the type's comment).
    let hardLimit: Int32
    private let sqlite: SQLiteLibrary
    // The checkpointer's own connection: used only by `thread` (and by init and close around it).
    private var database: SQLiteLibrary.Database?
    private let state = ConditionLock(State())
    private var thread: PosixThread?
    /// Checkpoints that copied frames, on either side (for tests); read under `counts`.
    private let counts = ConditionLock((background: 0, inline: 0))

    init(path: String, sqlite: SQLiteLibrary, threshold: Int32, hardLimit: Int32) throws(PipelineError) {
        self.sqlite = sqlite
        self.threshold = threshold
        self.hardLimit = hardLimit
        var db: SQLiteLibrary.Database?
        let rc = sqlite.open_v2(path, &db, SQLiteLibrary.openReadWrite | SQLiteLibrary.openNoMutex, nil)
        database = db
        guard rc == SQLiteLibrary.ok else {
            let message = db.map { String(cString: sqlite.errmsg($0)!) } ?? "out of memory"
            if let db { _ = sqlite.close_v2(db) }
            throw .sqlite(operation: "open \(path) (checkpointer)", code: rc, message: message)
        }
        // A connection that has not read the database yet does not know it is in WAL mode: its checkpoint would
        // return at once having copied nothing (log and checkpointed frames -1). Reading the journal mode opens
        // the WAL for it.
        _ = sqlite.busy_timeout(db, 5000)
        guard sqlite.exec(db, "PRAGMA journal_mode", nil, nil, nil) == SQLiteLibrary.ok else {
            let message = String(cString: sqlite.errmsg(db)!)
            _ = sqlite.close_v2(db)
            database = nil
            throw .sqlite(operation: "PRAGMA journal_mode (checkpointer)", code: -1, message: message)
        }
        do {
            thread = try PosixThread.spawn(name: "danmu-sqlite-ck") { [self] in run() }
        } catch {
            _ = sqlite.close_v2(db)
            database = nil
            throw .invalidConfiguration("cannot start the checkpoint thread of \(path): \(error)")
        }
    }

    /// (background, inline) checkpoints that copied frames so far.
    var checkpointsRun: (background: Int, inline: Int) { counts.withLock { $0 } }

    /// Installs the hook on the writer's connection; `self` must outlive it (the sink removes it before closing).
    func install(on writer: SQLiteLibrary.Database?) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = sqlite.wal_hook(
            writer,
            { context, db, _, frames in
                let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                checkpointer.committed(frames: frames, writer: db)
                return SQLiteLibrary.ok
            }, context)
    }

    /// On the writer thread, inside `COMMIT`, after the transaction is durable in the WAL.
    private func committed(frames: Int32, writer: SQLiteLibrary.Database?) {
        if frames >= hardLimit {
            // While a background pass runs, this one would return busy: let the WAL grow past the limit until the
            // pass ends (the commit after it copies what the pass left, with no wait), but not past twice the
            // limit — there, wait for the pass. No new background pass starts above the limit.
            if frames >= 2 * hardLimit {
                state.withLock(waitingUntil: { !$0.running }) { _, _ in }
            } else if state.withLock({ $0.running }) {
                return
            }
            var log: Int32 = 0
            var copied: Int32 = 0
            let rc = sqlite.wal_checkpoint_v2(writer, "main", SQLiteLibrary.checkpointPassive, &log, &copied)
            if rc == SQLiteLibrary.ok && copied > 0 { counts.withLock { $0.inline += 1 } }
            return
        }
        guard frames >= threshold else { return }
        let wake = state.withLock { s in
            guard !s.running, !s.requested else { return false }
            s.requested = true
            return true
        }
        if wake { state.signal() }
    }

    private func run() {
        while true {
            let go = state.withLock(waitingUntil: { $0.requested || $0.closing }) { s, _ in
                guard !s.closing else { return false }
                s.requested = false
                s.running = true
                return true
            }
            guard go else { return }
            var log: Int32 = 0
            var copied: Int32 = 0
            // Errors (busy: the writer is checkpointing itself; a full disk) leave the WAL as it is: the next
            // commit past the threshold asks again, and the writer's own commits report real failures.
            let rc = sqlite.wal_checkpoint_v2(database, "main", SQLiteLibrary.checkpointPassive, &log, &copied)
            if rc == SQLiteLibrary.ok && copied > 0 { counts.withLock { $0.background += 1 } }
            state.withLock { $0.running = false }
            state.broadcast()
        }
    }

    /// Stops the thread (after the checkpoint it may be running) and closes the second connection.
    func close() {
        state.withLock { $0.closing = true }
        state.broadcast()
        thread?.join()
        thread = nil
        if let database { _ = sqlite.close_v2(database) }
        database = nil
    }

    deinit { close() }
}
