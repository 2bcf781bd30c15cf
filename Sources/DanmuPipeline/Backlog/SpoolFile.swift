import Glibc

/// An append-only file of sink records that a sink could not take in time, replayed in order.
///
/// Record: `length` (u32 LE, payload bytes) · `crc32` (u32 LE, of the payload) · payload (`SinkRecord.encode`).
/// The replay position lives beside it in `<path>.offset` (8 bytes LE, rewritten after each replayed batch
/// the sink acknowledged); when the position reaches the end, both are reset to 0.
///
/// Opening scans from the saved position: a record whose length runs past the end of the file, or whose
/// checksum or payload does not verify, ends the valid part — the file is truncated there and
/// `tornRecordsSkipped` counts it (a process killed in the middle of an append leaves exactly this). Bytes after
/// a bad record are not trusted: a length read from garbage cannot find the next record.
///
/// fsync policy: appends are `write(2)`s, so a killed process (SIGKILL, a crash) loses nothing it appended —
/// the kernel has the bytes. `fdatasync` runs when the owner calls `sync()` (the runner does it at most once a
/// second while spooling, and at close), so a power loss may lose the last second of spooled records.
///
/// Not thread-safe: the owning `SinkRunner` calls it under its lock.
final class SpoolFile {
    let path: String
    private var fd: Int32
    private var offsetFD: Int32
    /// Where the next record to replay starts.
    private(set) var readOffset = 0
    /// Where the next append goes (the valid end of the file).
    private(set) var endOffset = 0
    /// Records found torn or corrupt at open (and truncated away).
    private(set) var tornRecordsSkipped = 0
    /// Records appended but not yet replayed: counted at open by the scan, then kept up to date.
    private(set) var pendingRecords = 0
    private var dirty = false

    static let headerSize = 8

    init(path: String) throws(PipelineError) {
        self.path = path
        fd = try FileIO.open(path, O_RDWR | O_CREAT)
        do {
            offsetFD = try FileIO.open(path + ".offset", O_RDWR | O_CREAT)
        } catch {
            Glibc.close(fd)
            throw error
        }
        do {
            try recover()
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes both files (idempotent); the spool must not be used after it. The runner closes it explicitly when
    /// it finishes, before it releases its `SpoolLock`, so the next opener never shares the file with us.
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        Glibc.close(offsetFD)
        fd = -1
        offsetFD = -1
    }

    var pendingBytes: Int { endOffset - readOffset }
    var isEmpty: Bool { readOffset == endOffset }

    private func recover() throws(PipelineError) {
        let size = try FileIO.size(fd, path: path)
        let saved = try FileIO.pread(offsetFD, count: 8, at: 0, path: path + ".offset")
        var offset = 0
        if saved.count == 8 {
            var reader = ByteReader(bytes: saved[...])
            offset = Int(reader.int64() ?? 0)
        }
        if offset < 0 || offset > size { offset = 0 }
        readOffset = offset
        var position = offset
        var count = 0
        while position < size {
            guard let (_, next) = try record(at: position, fileSize: size) else {
                tornRecordsSkipped += 1
                try FileIO.truncate(fd, to: position, path: path)
                break
            }
            position = next
            count += 1
        }
        endOffset = position
        pendingRecords = count
        if isEmpty { try reset() }
    }

    /// The record at `offset` and the offset after it; nil when it is torn or does not verify.
    private func record(at offset: Int, fileSize: Int) throws(PipelineError) -> (SinkRecord, Int)? {
        guard offset + Self.headerSize <= fileSize else { return nil }
        let header = try FileIO.pread(fd, count: Self.headerSize, at: offset, path: path)
        var reader = ByteReader(bytes: header[...])
        guard let length = reader.uint32(), let crc = reader.uint32() else { return nil }
        let end = offset + Self.headerSize + Int(length)
        guard end <= fileSize else { return nil }
        let payload = try FileIO.pread(fd, count: Int(length), at: offset + Self.headerSize, path: path)
        guard payload.count == Int(length), CRC32.checksum(payload) == crc,
            let record = SinkRecord.decode(payload[...])
        else { return nil }
        return (record, end)
    }

    /// Appends `records` in one `write(2)`.
    func append(_ records: some Collection<SinkRecord>) throws(PipelineError) {
        guard !records.isEmpty else { return }
        let out = Self.encode(records)
        try FileIO.pwriteAll(fd, out, at: endOffset, path: path)
        endOffset += out.count
        pendingRecords += records.count
        dirty = true
    }

    static func encode(_ records: some Collection<SinkRecord>) -> [UInt8] {
        var out: [UInt8] = []
        var payload: [UInt8] = []
        for record in records {
            payload.removeAll(keepingCapacity: true)
            record.encode(into: &payload)
            let length = UInt32(payload.count)
            let crc = CRC32.checksum(payload)
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(i)))) }
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
            out.append(contentsOf: payload)
        }
        return out
    }

    /// Up to `limit` records from the replay position, and the position after them (pass it to `commit`).
    func read(limit: Int) throws(PipelineError) -> ([SinkRecord], Int) {
        var records: [SinkRecord] = []
        var position = readOffset
        while records.count < limit, position < endOffset {
            guard let (record, next) = try record(at: position, fileSize: endOffset) else {
                // Our own appends verified at open or written by us: a bad one now is disk corruption.
                throw .file(operation: "verify spool record", path: path, errno: EIO)
            }
            records.append(record)
            position = next
        }
        return (records, position)
    }

    /// The sink took the records before `offset`: move the replay position (and reset the file at the end).
    func commit(_ offset: Int, records: Int) throws(PipelineError) {
        readOffset = offset
        pendingRecords -= records
        if isEmpty {
            try reset()
        } else {
            try saveOffset()
        }
    }

    func sync() throws(PipelineError) {
        guard dirty else { return }
        try FileIO.sync(fd, path: path)
        try FileIO.sync(offsetFD, path: path + ".offset")
        dirty = false
    }

    /// Rewrites the spool as `front` followed by the records not yet replayed, for the close of a runner whose
    /// sink is still down: records held in memory are older than everything spooled, so they must go first.
    /// Written to `<path>.tmp`, synced, then renamed over the spool; the replay position is reset to 0 first,
    /// so a crash in between replays records again (a duplicate) rather than skipping any (a loss).
    /// The spool must not be used after this.
    func closeWithPrepended(_ front: [SinkRecord]) throws(PipelineError) {
        guard !front.isEmpty else { return try sync() }
        let (rest, _) = try read(limit: Int.max)
        let temporary = path + ".tmp"
        let tmp = try FileIO.open(temporary, O_RDWR | O_CREAT | O_TRUNC)
        defer { Glibc.close(tmp) }
        try FileIO.writeAll(tmp, Self.encode(front + rest), path: temporary)
        try FileIO.sync(tmp, path: temporary)
        readOffset = 0
        try saveOffset()
        try FileIO.sync(offsetFD, path: path + ".offset")
        guard rename(temporary, path) == 0 else { throw .file(operation: "rename", path: temporary, errno: errno) }
    }

    private func reset() throws(PipelineError) {
        try FileIO.truncate(fd, to: 0, path: path)
        readOffset = 0
        endOffset = 0
        pendingRecords = 0
        try saveOffset()
    }

    private func saveOffset() throws(PipelineError) {
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: UInt64(readOffset) >> (8 * UInt64(i)))) }
        try FileIO.pwriteAll(offsetFD, bytes, at: 0, path: path + ".offset")
        dirty = true
    }
}
