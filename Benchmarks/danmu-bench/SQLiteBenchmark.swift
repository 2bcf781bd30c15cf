@_spi(Benchmarks) import DanmuPipeline
import DanmuCodecs
import EventLoop
import Glibc

// The SQLite half of `sinks`: rows/s into SQLite through SinkRunner + SQLiteSink (WAL, synchronous=NORMAL, a
// transaction per batch of 4,096), the same rows through a bare loop over the same library (SQLiteFloor), and
// Python's sqlite3 `executemany` of them into the same schema, same pragmas and batch size, in the same run.

/// Python's sqlite3 baseline: the same rows from a JSON file, the same schema and pragmas, executemany per
/// batch inside one transaction per batch; prints rows/s of the timed part (inserts and commits only).
private let pythonBaseline = """
    import sqlite3, sys, json, time
    db_path, rows_path, schema_path, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pragmas = sys.argv[5].split(";")
    rows = [tuple(r) for r in json.load(open(rows_path))]
    db = sqlite3.connect(db_path, isolation_level=None)
    for pragma in pragmas: db.execute(pragma)
    db.executescript(open(schema_path).read())
    sql = ("INSERT OR IGNORE INTO events (room, received_at, kind, cmd, id_str, uid, uname, text, json)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), batch):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(sql, rows[i:i + batch])
        db.execute("COMMIT")
    print(len(rows) / (time.perf_counter() - start), len(rows) / (time.process_time() - cpu))
    """

private func jsonString(_ text: String?) -> String {
    guard let text else { return "null" }
    var writer = JSONWriter()
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
}

func runSQLiteThroughputBenchmark(rows: [SinkRecord], runs: Int, dir: String) -> [BenchmarkFigure] {
    let count = rows.count
    var figures: [BenchmarkFigure] = []

    // SQLite, ours: the whole path a collector's batches take (submit → runner thread → one transaction per batch).
    var ours: [Double] = []
    var oursCPU: [Double] = []
    for run in 0..<runs {
        let path = "\(dir)/ours-\(run).db"
        do {
            var configuration = SinkConfiguration()
            configuration.maxBatch = 4096
            configuration.memoryBudgetBytes = 1 << 30
            let runner = try SinkRunner(sink: SQLiteSink(path: path), configuration: configuration)
            let start = SystemClock.monotonicNanoseconds()
            let cpu = ProcessMetrics.cpuSeconds()
            var i = 0
            while i < rows.count {
                runner.submit(Array(rows[i..<min(i + 20, rows.count)]))  // reads of 20 events, as from a room
                i += 20
            }
            runner.close()
            let seconds = Double(SystemClock.monotonicNanoseconds() - start) / 1e9
            let cpuSeconds = ProcessMetrics.cpuSeconds() - cpu
            precondition(runner.statistics.written == count, "sqlite sink wrote \(runner.statistics.written)")
            ours.append(Double(count) / seconds)
            oursCPU.append(Double(count) / cpuSeconds)
        } catch {
            progress("sinks: sqlite: \(error)")
            return figures
        }
    }
    figures.append(
        BenchmarkFigure(
            name: "sqlite_rows_per_second", value: median(ours), unit: "rows/s",
            note: "SinkRunner + SQLiteSink, WAL, synchronous=NORMAL, batches ≤ 4096"))
    figures.append(
        BenchmarkFigure(
            name: "sqlite_rows_per_cpu_second", value: median(oursCPU), unit: "rows/CPU-s",
            note: "the same runs, process CPU time (submitting thread + writer thread)"))

    // The floor: the same rows by a bare loop over the same library and schema (SQLiteFloor), no runner, no
    // thread; beside it the sink's cost is its own.
    var floor: [Double] = []
    var floorCPU: [Double] = []
    for run in 0..<runs {
        let start = SystemClock.monotonicNanoseconds()
        let cpu = ProcessMetrics.cpuSeconds()
        do {
            let stored = try SQLiteFloor.insert(rows, path: "\(dir)/floor-\(run).db", batch: 4096)
            precondition(stored == count, "sqlite floor stored \(stored)")
        } catch {
            progress("sinks: sqlite floor: \(error)")
            break
        }
        floor.append(Double(count) / (Double(SystemClock.monotonicNanoseconds() - start) / 1e9))
        floorCPU.append(Double(count) / (ProcessMetrics.cpuSeconds() - cpu))
    }
    if !floor.isEmpty {
        figures += [
            BenchmarkFigure(
                name: "sqlite_floor_rows_per_second", value: median(floor), unit: "rows/s",
                note: "bare loop over SQLiteLibrary: one prepared INSERT per row, same rows, schema, pragmas, batches"),
            BenchmarkFigure(
                name: "sqlite_floor_rows_per_cpu_second", value: median(floorCPU), unit: "rows/CPU-s",
                note: "the same floor runs, process CPU time"),
            BenchmarkFigure(
                name: "sqlite_sink_vs_floor", value: median(ours) / median(floor), unit: "×",
                note: "wall clock, sink ÷ bare loop"),
            BenchmarkFigure(
                name: "sqlite_sink_vs_floor_cpu", value: median(oursCPU) / median(floorCPU), unit: "×",
                note: "rows per CPU second, sink ÷ bare loop"),
        ]
    }

    // SQLite, Python executemany of the same rows.
    var json = "["
    for (index, r) in rows.enumerated() {
        if index > 0 { json += "," }
        json +=
            "[\(r.room),\(r.receivedAt / 1_000_000),\(jsonString(r.kind)),\(jsonString(r.cmd)),"
            + "\(jsonString(r.idStr)),\(r.uid.map(String.init) ?? "null"),\(jsonString(r.uname)),"
            + "\(jsonString(r.text)),\(jsonString(String(decoding: r.json, as: UTF8.self)))]"
    }
    writeText("\(dir)/rows.json", json + "]")
    writeText("\(dir)/schema.sql", SQLiteSink.migrationSQL.joined(separator: ";\n") + ";")
    writeText("\(dir)/baseline.py", pythonBaseline)
    var python: [Double] = []
    var pythonCPU: [Double] = []
    let pragmas = SQLiteSink.pragmas.joined(separator: ";")
    for run in 0..<runs {
        let result = shell(
            "python3 \(dir)/baseline.py \(dir)/py-\(run).db \(dir)/rows.json \(dir)/schema.sql 4096 '\(pragmas)'")
        let words = (result.output.split(separator: "\n").last ?? "").split(separator: " ")
        guard result.status == 0, words.count == 2, let rate = Double(words[0]), let cpuRate = Double(words[1]) else {
            progress("sinks: python baseline failed: \(result.output)")
            break
        }
        python.append(rate)
        pythonCPU.append(cpuRate)
    }
    if !python.isEmpty {
        figures.append(
            BenchmarkFigure(
                name: "sqlite_python_executemany_rows_per_second", value: median(python),
                unit: "rows/s", note: "python3 sqlite3, same rows, schema, pragmas, batches"))
        figures.append(
            BenchmarkFigure(
                name: "sqlite_ratio_vs_python", value: median(ours) / median(python),
                unit: "×", note: "wall clock; target ≥ 2"))
        figures.append(
            BenchmarkFigure(
                name: "sqlite_python_executemany_rows_per_cpu_second", value: median(pythonCPU),
                unit: "rows/CPU-s", note: "the same runs, time.process_time()"))
        figures.append(
            BenchmarkFigure(
                name: "sqlite_cpu_ratio_vs_python", value: median(oursCPU) / median(pythonCPU),
                unit: "×", note: "rows per CPU second, ours / Python's"))
    }
    if !python.isEmpty, !floor.isEmpty {
        figures += [
            BenchmarkFigure(
                name: "sqlite_floor_vs_python", value: median(floor) / median(python), unit: "×",
                note: "wall clock, bare loop ÷ Python executemany"),
            BenchmarkFigure(
                name: "sqlite_floor_vs_python_cpu", value: median(floorCPU) / median(pythonCPU), unit: "×",
                note: "rows per CPU second, bare loop ÷ Python"),
        ]
    }
    return figures
}
