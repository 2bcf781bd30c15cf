/// Where a pipeline's records go. A `SinkRunner` owns each sink and calls it from the runner's own writer
/// thread only — one call at a time — so an implementation may block (SQLite's `sqlite3_step`, a file's
/// `write`) and needs no lock of its own.
public protocol Sink: AnyObject, Sendable {
    /// For statistics, warnings and the spool's messages (`sqlite:/var/danmu.db`).
    var name: String { get }
    /// Writes one batch, all or nothing as far as the sink can make it so (SQLite: one transaction). A thrown
    /// error means the batch was not taken: the runner retries it with backoff, spooling what arrives meanwhile.
    func write(_ batch: [SinkRecord]) throws(PipelineError)
    /// Called once, on the writer thread, after the last `write`.
    func close()
}
