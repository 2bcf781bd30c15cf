import Glibc

/// Thin wrappers over the few libc calls the CLI makes directly. Everything that can fail returns the errno
/// text so callers can print one readable line; the CLI never traps on a failed syscall.
enum Posix {
    /// `strerror(errno)` as a Swift string.
    static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// Writes every byte, retrying short writes and `EINTR`. Returns the errno of a failure, or nil.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard var base = bytes.baseAddress else { return nil }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            base += written
            remaining -= written
        }
        return nil
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    /// `isatty(3)`: decides the default output format and whether a status line is drawn.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Reads a whole file (or standard input for "-") into memory.
    static func readFile(_ path: String) -> Result<[UInt8], FileError> {
        let fd: Int32
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { return .failure(FileError(path: path, operation: "open", code: errno)) }
        }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(FileError(path: path, operation: "read", code: errno))
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return .success(result)
    }
}

/// A failed file operation, printed as "cannot open rooms.txt: No such file or directory".
struct FileError: Error, CustomStringConvertible {
    var path: String
    var operation: String
    var code: Int32
    var description: String { "cannot \(operation) \(path == "-" ? "standard input" : path): \(Posix.describe(code))" }
}

/// Standard error output. Writes go straight to fd 2 (unbuffered) so warnings interleave sanely with the
/// status line, which is redrawn in place with a carriage return.
enum StandardError {
    static func print(_ line: String) {
        _ = Posix.writeAll(STDERR_FILENO, line + "\n")
    }
}
