/// The floor danmu-bench compares the SQLite sink with: the same rows inserted by a bare loop over the same
/// library, schema and pragmas — one prepared single-row `INSERT OR IGNORE`, bound and stepped per row, one
/// transaction per `batch` rows, SQLite's own auto-checkpoint — with no `SinkRunner`, no thread, no grouping.
/// What libsqlite3 itself does with these rows here, so the sink's overhead is (floor time − sink time).
@_spi(Benchmarks)
public enum SQLiteFloor {
    /// Inserts `rows` into a new database at `path`; returns how many rows the table holds afterwards.
    public static func insert(_ rows: [SinkRecord], path: String, batch: Int) throws(PipelineError) -> Int {
        let sqlite = try SQLiteLibrary.shared()
        var db: SQLiteLibrary.Database?
        let flags = SQLiteLibrary.openReadWrite | SQLiteLibrary.openCreate | SQLiteLibrary.openNoMutex
        let rc = sqlite.open_v2(path, &db, flags, nil)
        defer { _ = sqlite.close_v2(db) }
        func fail(_ what: String, _ code: Int32) -> PipelineError {
            .sqlite(
                operation: what, code: code,
                message: db.flatMap { sqlite.errmsg($0) }.map { String(cString: $0) } ?? "?")
        }
        guard rc == SQLiteLibrary.ok else { throw fail("open \(path)", rc) }
        for sql in SQLiteSink.pragmas + SQLiteSink.migrationSQL {
            let rc = sqlite.exec(db, sql, nil, nil, nil)
            guard rc == SQLiteLibrary.ok else { throw fail(sql, rc) }
        }
        var statement: SQLiteLibrary.Statement?
        let insertSQL = SQLiteSink.insertSQL(rows: 1)
        guard sqlite.prepare_v2(db, insertSQL, -1, &statement, nil) == SQLiteLibrary.ok else {
            throw fail("prepare", -1)
        }
        defer { _ = sqlite.finalize(statement) }
        var start = 0
        while start < rows.count {
            guard sqlite.exec(db, "BEGIN IMMEDIATE", nil, nil, nil) == SQLiteLibrary.ok else { throw fail("BEGIN", -1) }
            for r in rows[start..<min(start + batch, rows.count)] {
                _ = sqlite.bind_int64(statement, 1, r.room)
                _ = sqlite.bind_int64(statement, 2, r.receivedAt / 1_000_000)
                sqlite.bind(statement, 3, r.kind)
                sqlite.bind(statement, 4, r.cmd)
                sqlite.bind(statement, 5, r.idStr)
                sqlite.bind(statement, 6, r.uid)
                sqlite.bind(statement, 7, r.uname)
                sqlite.bind(statement, 8, r.text)
                r.json.withUnsafeBytes { json in
                    _ = sqlite.bind_text(statement, 9, json.baseAddress, Int32(json.count), SQLiteLibrary.transient)
                }
                let rc = sqlite.step(statement)
                _ = sqlite.reset(statement)
                guard rc == SQLiteLibrary.done else { throw fail("INSERT", rc) }
            }
            guard sqlite.exec(db, "COMMIT", nil, nil, nil) == SQLiteLibrary.ok else { throw fail("COMMIT", -1) }
            start += batch
        }
        var count: SQLiteLibrary.Statement?
        guard sqlite.prepare_v2(db, "SELECT count(*) FROM events", -1, &count, nil) == SQLiteLibrary.ok else {
            throw fail("count", -1)
        }
        defer { _ = sqlite.finalize(count) }
        guard sqlite.step(count) == SQLiteLibrary.row else { throw fail("count", -1) }
        return Int(sqlite.column_int64(count, 0))
    }
}
