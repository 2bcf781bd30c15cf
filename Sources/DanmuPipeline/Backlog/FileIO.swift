import Glibc

/// The few file calls the spool and the JSON Lines sink make, each retried on EINTR and mapped to
/// `PipelineError.file` with the call's name. (EventLoop's syscall helper is internal to it; these are the
/// blocking-file counterparts, used only on sink writer threads.)
enum FileIO {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(PipelineError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .file(operation: "open", path: path, errno: errno) }
        }
    }

    /// Writes all of `bytes` (short writes continued).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(PipelineError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .file(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }

    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(PipelineError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .file(operation: "pwrite", path: path, errno: errno)
            }
            done += n
        }
    }

    /// Up to `count` bytes at `offset`; fewer only at the end of the file.
    static func pread(_ fd: Int32, count: Int, at offset: Int, path: String) throws(PipelineError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes {
                Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .file(operation: "pread", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        out.removeLast(count - done)
        return out
    }

    static func size(_ fd: Int32, path: String) throws(PipelineError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .file(operation: "fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws(PipelineError) {
        while ftruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { throw .file(operation: "ftruncate", path: path, errno: errno) }
        }
    }

    static func sync(_ fd: Int32, path: String) throws(PipelineError) {
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw .file(operation: "fdatasync", path: path, errno: errno) }
        }
    }
}
