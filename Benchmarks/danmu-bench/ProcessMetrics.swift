import CDanmuSystem
import Glibc
import TestSupport

/// Readings of this process's own resource use, taken the same way in every scenario so figures compare.
enum ProcessMetrics {
    /// Resident set size in bytes, from `/proc/self/statm` (second field, in pages).
    static func residentBytes() -> Int {
        guard let bytes = TestFiles.read("/proc/self/statm") else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Bytes currently allocated with malloc (`mallinfo2().uordblks + hblkhd`): what user space holds, without the
    /// pages the allocator keeps cached. Used for "user bytes per room".
    static func heapBytes() -> Int {
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
    }

    /// User + system CPU seconds this process has used so far (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// System (kernel) CPU seconds this process has used so far: on loopback the receiving side's TCP work runs in
    /// the sender's context too, so a fan-out server's share of it says how much of its CPU is the kernel's.
    static func systemCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds used by waited-for children (the simulator process, once reaped).
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC: comparable across processes on one machine).
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Median of a sample (the figure every scenario quotes).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// The value below which `fraction` of the sample lies (nearest rank).
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    precondition(!sorted.isEmpty, "percentile of nothing")
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}

/// Runs `body` `runs` times and returns the median of its results.
func medianOf(_ runs: Int, _ body: () -> Double) -> Double {
    median((0..<max(1, runs)).map { _ in body() })
}

/// Progress on stderr, so stdout stays a clean table.
func progress(_ message: String) {
    writeLine("danmu-bench: " + message, to: 2)
}

/// Writes one line straight to a file descriptor (no stdio buffering to flush, nothing shared to guard).
func writeLine(_ line: String, to fd: Int32) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        offset += n
    }
}
