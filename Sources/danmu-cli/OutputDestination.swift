import Glibc

/// When an output file is closed and renamed so that a fresh one starts.
enum RotationPolicy: Equatable {
    case never
    /// Rotate before a write would make the file larger than this many bytes (lines are never split).
    case size(Int)
    /// Rotate at the first write after local midnight.
    case daily

    /// Parses "100M", "64K", "1G", "5000" or "daily".
    static func parse(_ text: String) -> RotationPolicy? {
        if text == "daily" { return .daily }
        var digits = Substring(text)
        var multiplier = 1
        switch text.last.map({ Character($0.lowercased()) }) {
        case "k": multiplier = 1 << 10
        case "m": multiplier = 1 << 20
        case "g": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { digits = digits.dropLast() }
        guard let number = Int(digits), number > 0, number <= Int.max / multiplier else { return nil }
        return .size(number * multiplier)
    }
}

/// Where the sink writes: an inherited descriptor (stdout) or a file opened for appending that rotates.
/// Used only by the sink thread.
final class OutputDestination {
    private(set) var fd: Int32
    private let path: String?
    private let policy: RotationPolicy
    private var size: Int = 0
    private var day: Int32
    /// The wall clock daily rotation and rotated names read: `time(nil)`; a seam for the test that crosses
    /// midnight without waiting for it.
    private let now: () -> time_t
    /// Names of the files rotated away so far (for the summary and tests).
    private(set) var rotatedFiles: [String] = []

    /// Standard output (never rotated, never closed).
    init(standardOutput: ()) {
        fd = STDOUT_FILENO
        path = nil
        policy = .never
        now = { time(nil) }
        day = OutputDestination.localDay(now())
    }

    /// Opens `path` for appending (created 0644 if missing).
    init(appendingTo path: String, rotation: RotationPolicy, now: @escaping () -> time_t = { time(nil) })
        throws(FileError)
    {
        self.path = path
        self.policy = rotation
        self.fd = -1
        self.now = now
        self.day = OutputDestination.localDay(now())
        try open()
    }

    deinit {
        if path != nil && fd >= 0 { Glibc.close(fd) }
    }

    private func open() throws(FileError) {
        guard let path else { return }
        let opened = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if opened < 0 { throw FileError(path: path, operation: "open", code: errno) }
        var info = stat()
        size = fstat(opened, &info) == 0 ? Int(info.st_size) : 0
        fd = opened
    }

    /// Writes a chunk made of whole lines, rotating first when the policy says so. Returns an error text.
    func write(_ chunk: UnsafeRawBufferPointer) -> String? {
        var rest = chunk
        while !rest.isEmpty {
            var take = rest.count
            switch policy {
            case .never:
                break
            case .daily:
                let today = OutputDestination.localDay(now())
                if today != day && size > 0 {
                    if let failure = rotate() { return failure }
                }
                day = today
            case .size(let limit):
                if size + rest.count > limit {
                    // Fill the current file up to the last newline that fits; a single line longer than the
                    // limit goes alone into a fresh file.
                    let room = max(0, limit - size)
                    if let cut = lastNewline(in: rest, before: room) {
                        take = cut + 1
                    } else if size > 0 {
                        if let failure = rotate() { return failure }
                        continue
                    } else {
                        take = firstNewline(in: rest).map { $0 + 1 } ?? rest.count
                    }
                }
            }
            let part = UnsafeRawBufferPointer(rebasing: rest[0..<take])
            if let code = Posix.writeAll(fd, part) {
                return "cannot write \(path ?? "standard output"): \(Posix.describe(code))"
            }
            size += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if case .size(let limit) = policy, size >= limit, !rest.isEmpty {
                if let failure = rotate() { return failure }
            }
        }
        return nil
    }

    private func lastNewline(in bytes: UnsafeRawBufferPointer, before limit: Int) -> Int? {
        var index = min(limit, bytes.count) - 1
        while index >= 0 {
            if bytes[index] == UInt8(ascii: "\n") { return index }
            index -= 1
        }
        return nil
    }

    private func firstNewline(in bytes: UnsafeRawBufferPointer) -> Int? {
        bytes.firstIndex(of: UInt8(ascii: "\n"))
    }

    /// Renames FILE to FILE.YYYYMMDD-HHMMSS (plus -N when taken) and opens a fresh FILE.
    private func rotate() -> String? {
        guard let path else { return nil }
        Glibc.close(fd)
        fd = -1
        let stamp = OutputDestination.timestamp(now())
        var target = path + "." + stamp
        var attempt = 1
        while access(target, F_OK) == 0 {
            attempt += 1
            target = path + "." + stamp + "-\(attempt)"
        }
        if rename(path, target) != 0 {
            return "cannot rotate \(path) to \(target): \(Posix.describe(errno))"
        }
        rotatedFiles.append(target)
        do { try open() } catch { return error.description }
        return nil
    }

    private static func localDay(_ time: time_t) -> Int32 {
        var now = time
        var parts = tm()
        localtime_r(&now, &parts)
        return parts.tm_year * 400 + parts.tm_yday
    }

    private static func timestamp(_ time: time_t) -> String {
        var now = time
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
