import EventLoop
import Glibc
import TestSupport

// Helpers the scenarios share: the fixtures directory, the thread-CPU stopwatch, the rate measurement loop, a
// seeded generator, and the blocking send of the hand-written baseline clients (FloorClient, ThreadsBaseline; they
// connect with TestSupport's `connectToLoopback`). (Process-wide readings, `median` and `progress` live in ProcessMetrics.swift.)

/// `<root>/Fixtures`, where the committed samples, captures and generated reference streams are. Files are read
/// with `TestFiles` (TestSupport), the same helper the tests use.
let fixturesDirectory = TestFiles.repositoryRoot + "/Fixtures"

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): other processes competing for the (shared) cores do
/// not inflate it.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Median rate in units per second of thread CPU time over `runs` runs, after one warm-up pass; each run repeats
/// `pass` (which does `unitsPerPass` units and returns a checksum, so the work stays observable) for at least
/// `budget` seconds. With `batched`, the clock (a system call) is read after batches of passes that grow to ~1 ms.
func measureRate(runs: Int, budget: Double, unitsPerPass: Int, batched: Bool = false, _ pass: () -> Int) -> Double {
    var rates: [Double] = []
    var sink = pass()  // warm-up
    for _ in 0..<runs {
        var passes = 0
        var batch = 1
        let start = threadCPUSeconds()
        var elapsed = 0.0
        repeat {
            for _ in 0..<batch { sink &+= pass() }
            passes += batch
            elapsed = threadCPUSeconds() - start
            if batched && elapsed < 0.001 * Double(passes) / Double(batch) { batch *= 2 }
        } while elapsed < budget
        rates.append(Double(passes * unitsPerPass) / elapsed)
    }
    if sink == 42 { print("", terminator: "") }  // keep `sink` observable
    return median(rates)
}

/// `measureRate` in MB/s (10^6 bytes per second).
func measureMegabytesPerSecond(
    runs: Int, budget: Double, bytesPerPass: Int, batched: Bool = false, _ pass: () -> Int
) -> Double {
    measureRate(runs: runs, budget: budget, unitsPerPass: bytesPerPass, batched: batched, pass) / 1e6
}

/// The benchmarks' seeded generator (EventLoop's SplitMix64), so generated corpora are the same on every run.
typealias BenchRandom = SplitMix64

/// Sends all of `bytes` (small control packets; a non-blocking socket that would block gives up: false).
func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}

/// A free loopback TCP port (bound once, then released).
func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}
