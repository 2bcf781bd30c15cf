import EventLoop

/// Moves the sink's WAL back into the database file off the writer's path, and lets the WAL rewind under a
/// continuous writer (docs/sqlite.md, "Checkpoints").
///
/// SQLite's own auto-checkpoint runs inside the `COMMIT` that crosses `wal_autocheckpoint` pages: that commit
/// copies every page of the WAL into the database and fsyncs both files before it returns — hundreds of
/// milliseconds during which the writer acknowledges nothing. Here the writer's connection has a
/// `sqlite3_wal_hook` instead (which replaces the auto-checkpoint): after a commit that leaves `threshold` frames
/// or more in the WAL, it wakes this object's thread, which runs a PASSIVE checkpoint on a second connection while
/// the writer keeps committing (WAL lets one checkpointer and one writer run at once).
///
/// The WAL rewinds to its start only at the first write transaction after a checkpoint that copied all of it, and
/// a background pass never does while commits arrive every millisecond: what was committed during the pass is
/// left. So passes repeat — each copies what the last one left, a shorter tail each time — and once the tail is
/// at most `tailLimit` frames, the writer copies it itself after its commit (two small fsyncs and a few hundred
/// KiB, about a millisecond here), the next commit rewinds the WAL, and the cycle starts again from an empty log.
/// Measured before this (the writer checkpointing only at a hard limit of 64 MiB): stalls of 20–70 ms every ~250
/// commits and p99 54–439 ms at 10 k events/s.
///
/// `hardLimit` bounds the WAL if the passes never converge (a disk slower than the writer): from there on the
/// writer checkpoints after its commit whenever no pass is running, and waits for the pass at twice the limit.
final class SQLiteCheckpointer: @unchecked Sendable {
    /// The three limits in bytes of WAL (so they mean the same at any page size).
    struct Limits {
        /// WAL size after a commit that starts a background pass.
        var thresholdBytes: Int
        /// What the writer copies itself, at most, once a pass has ended.
        var tailBytes: Int
        /// WAL size from which the writer checkpoints whatever is left.
        var hardLimitBytes: Int
    }

    private struct State {
        var requested = false
        var closing = false
        var running = false
        /// WAL frames known to be copied into the database (the last pass's `pnCkpt`); 0 after the WAL rewound.
        var backfilled: Int32 = 0
    }

    /// Frames in the WAL after a commit that start a background checkpoint.
    let threshold: Int32
    /// Frames not yet copied, at most, for the writer to copy them itself once a pass has ended.
    let tailLimit: Int32
    /// Frames after which the writer checkpoints itself whatever the tail (see the type's comment).
    let hardLimit: Int32
    private let sqlite: SQLiteLibrary
    // The checkpointer's own connection: used only by `thread` (and by init and close around it).
    private var database: SQLiteLibrary.Database?
    private let state = ConditionLock(State())
    private var thread: PosixThread?
    /// Checkpoints that copied frames, on either side, and how many of the writer's were tails (before the hard
    /// limit); for tests and docs/sqlite.md.
    private let counts = ConditionLock((background: 0, inline: 0, tails: 0))
    // Writer thread only (the hook): the WAL's size after the previous commit, to see it rewind.
    private var lastFrames: Int32 = 0

    /// `pageSize`: the database's, for the limits in frames (a frame is one page).
    init(path: String, sqlite: SQLiteLibrary, limits: Limits, pageSize: Int64) throws(PipelineError) {
        let frames = { (bytes: Int) in Int32(clamping: max(1, Int64(bytes) / max(pageSize, 512))) }
        self.sqlite = sqlite
        threshold = frames(limits.thresholdBytes)
        tailLimit = frames(limits.tailBytes)
        hardLimit = frames(limits.hardLimitBytes)
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

    /// (background, inline, tails among the inline) checkpoints that copied frames so far.
    var checkpointsRun: (background: Int, inline: Int, tails: Int) { counts.withLock { $0 } }

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
        let rewound = frames < lastFrames
        lastFrames = frames
        enum Next { case nothing, wake, copyTail }
        let next = state.withLock { s -> Next in
            // Frames count from the WAL's start: fewer than last time means it rewound, and no frame of the new
            // cycle is copied yet.
            if rewound { s.backfilled = 0 }
            if s.running { return frames >= 2 * hardLimit ? .copyTail : .nothing }
            if s.backfilled > 0 && frames - s.backfilled <= tailLimit { return .copyTail }
            if frames >= hardLimit { return .copyTail }
            guard frames >= threshold, !s.requested else { return .nothing }
            s.requested = true
            return .wake
        }
        switch next {
        case .nothing: return
        case .wake: state.signal()
        case .copyTail:
            let tail = frames < hardLimit
            // Past twice the hard limit a pass is running: wait for it (the one place a commit waits).
            state.withLock(waitingUntil: { !$0.running }) { _, _ in }
            var log: Int32 = 0
            var copied: Int32 = 0
            let rc = sqlite.wal_checkpoint_v2(writer, "main", SQLiteLibrary.checkpointPassive, &log, &copied)
            if rc == SQLiteLibrary.ok && copied > 0 {
                counts.withLock { c in
                    c.inline += 1
                    if tail { c.tails += 1 }
                }
                state.withLock { $0.backfilled = copied }
            }
        }
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
            state.withLock { s in
                s.running = false
                if rc == SQLiteLibrary.ok && copied > 0 { s.backfilled = copied }
            }
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
