import Glibc

/// JSON Lines appended to a file (docs/json-lines.md: the same lines as `danmu-cli listen --format json`),
/// one `write(2)` per batch. Opened with `O_APPEND` at start, so an unopenable path fails there. Rotation stays
/// with the CLI's `OutputDestination`; this sink is for a pipeline's file output next to other sinks.
public final class JSONLinesSink: Sink, @unchecked Sendable {
    public let path: String
    // Touched only by the runner's writer thread after init.
    private var fd: Int32
    private var buffer: [UInt8] = []

    public init(path: String) throws(PipelineError) {
        self.path = path
        fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    public var name: String { "jsonl:\(path)" }

    public func write(_ batch: [SinkRecord]) throws(PipelineError) {
        buffer.removeAll(keepingCapacity: true)
        for record in batch {
            buffer.append(contentsOf: record.json)
            buffer.append(UInt8(ascii: "\n"))
        }
        try FileIO.writeAll(fd, buffer, path: path)
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
