import Glibc

/// The exclusive hold a `SinkRunner` takes on its spool: `flock(LOCK_EX | LOCK_NB)` on `<spool>.lock`, which
/// names the holder (`pid <pid> on <host>`).
///
/// Why: two processes given one `--spool-dir` (two cluster nodes on a host, the Redis sink's spool is named by
/// the server) would both append at their own idea of the end, truncate each other's torn tails and rewrite
/// one replay offset: the file is corrupt within a second. The second opener is refused instead, naming the
/// file and the holder.
///
/// Why a file beside the spool, not the spool itself: a runner closing with its sink down renames a rewritten
/// copy over the spool (`SpoolFile.closeWithPrepended`), and a lock on the old inode would not hold the new one;
/// the `.lock` file is never renamed. It is left in place when released (deleting it would race a new opener
/// that already opened it). The kernel drops a `flock` when its holder dies, so a SIGKILLed run never leaves a
/// stale lock; the holder text it left is overwritten by the next holder.
///
/// `flock` locks belong to an open file description: a second runner in the *same* process is refused too.
/// Linux only promises it on local file systems (NFS emulates `flock` with POSIX locks).
final class SpoolLock {
    let path: String
    private var fd: Int32

    /// Takes the lock of `spoolPath`, or throws naming the holder.
    init(spoolPath: String) throws(PipelineError) {
        path = spoolPath + ".lock"
        fd = try FileIO.open(path, O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            if error == EINTR { continue }
            let holder = Self.holder(fd: fd)
            close(fd)
            guard error == EWOULDBLOCK else { throw .file(operation: "flock", path: path, errno: error) }
            throw .invalidConfiguration(
                "the backlog file \(spoolPath) is in use by \(holder) (it holds \(path)); two writers would "
                    + "corrupt it: give each process its own spool directory (--spool-dir)")
        }
        // Ours now: say who holds it, for the next opener's message.
        let text = Array("pid \(getpid()) on \(Self.hostname())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = try? FileIO.pwriteAll(fd, text, at: 0, path: path)
    }

    deinit { release() }

    var isHeld: Bool { fd >= 0 }

    /// Drops the lock (idempotent). The runner calls it when it closes, not at deinit, so that a new runner
    /// (the next run, or a restarted node in the same process) can open the spool as soon as this one is done.
    func release() {
        guard fd >= 0 else { return }
        // Closing the last descriptor of the description drops the flock.
        close(fd)
        fd = -1
    }

    /// What the holder wrote, e.g. "pid 4242 on host-a"; it may not have written it yet.
    private static func holder(fd: Int32) -> String {
        guard let bytes = try? FileIO.pread(fd, count: 256, at: 0, path: ""), !bytes.isEmpty else {
            return "another process (it has not written its pid yet)"
        }
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return text.isEmpty ? "another process" : text
    }

    private static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
