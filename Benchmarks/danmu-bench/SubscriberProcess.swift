import CDanmuSystem
import EventLoop
import Glibc

// The SSE subscribers of the `realtime` scenario, in a child process of their own (`danmu-bench serve-subscribers`)
// with their own epoll reactor, so the server process's CPU and memory readings contain only the server. The child
// connects N streams to `/events?rooms=R`, prints `connected N` once every stream has its response head, then
// records, for every (event, subscriber), the latency from the simulator's send stamp (`"id_str":"sim-R-SEQ-NS"`,
// CLOCK_MONOTONIC nanoseconds, the clock `latency` uses) to the read, and prints one `result …` line.

/// Latencies in 10 µs buckets up to 10 s (one counter array instead of millions of samples), the maximum exact.
struct LatencyHistogram {
    static let bucketNanoseconds: UInt64 = 10_000
    private(set) var buckets = [Int](repeating: 0, count: 1_000_001)
    private(set) var count = 0
    private(set) var maximum: UInt64 = 0

    mutating func record(_ nanoseconds: UInt64) {
        buckets[Int(min(nanoseconds / Self.bucketNanoseconds, UInt64(buckets.count - 1)))] += 1
        count += 1
        maximum = max(maximum, nanoseconds)
    }

    /// The upper edge of the bucket holding the `fraction` quantile, in milliseconds (nearest rank).
    func quantileMilliseconds(_ fraction: Double) -> Double {
        guard count > 0 else { return .nan }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() {
            seen += n
            if seen >= rank { return Double(UInt64(index + 1) * Self.bucketNanoseconds) / 1e6 }
        }
        return Double(maximum) / 1e6
    }
}

/// What the subscriber process measured; also the `result` line it prints and the parent parses.
struct SubscriberResult {
    var events = 0
    var gaps = 0
    var bytes = 0
    var p50 = Double.nan
    var p99 = Double.nan
    var max = Double.nan
    /// Seconds from the first recorded event to the last one (the throughput window).
    var seconds = 0.0
    /// The child's CPU seconds over the wall seconds of the recording (the connects before it excluded).
    var cpuShare = Double.nan
    /// Filled in by the parent: the wall seconds from the room's add to the result.
    var wallSeconds = 0.0

    var line: String {
        "result \(events) \(gaps) \(bytes) \(p50) \(p99) \(max) \(seconds) \(cpuShare)"
    }

    init() {}

    init?(line: String) {
        let f = line.split(separator: " ")
        guard f.count == 9, f[0] == "result", let e = Int(f[1]), let g = Int(f[2]), let b = Int(f[3]),
            let p50 = Double(f[4]), let p99 = Double(f[5]), let m = Double(f[6]), let s = Double(f[7]),
            let c = Double(f[8])
        else { return nil }
        (events, gaps, bytes, self.p50, self.p99, max, seconds, cpuShare) = (e, g, b, p50, p99, m, s, c)
    }
}

/// The state all streams of the child share. Loop-confined: only the child's reactor thread touches it (the main
/// thread reads it through `executeAndWait`, hence the unchecked Sendable).
final class SubscriberFleet: @unchecked Sendable {
    let reactor: Reactor
    let address: SocketAddress
    let request: [UInt8]
    let count: Int
    var started = 0
    var opened = 0
    var failed = 0
    var histogram = LatencyHistogram()
    var result = SubscriberResult()
    /// Monotonic ns before which nothing is recorded (0: not yet armed; armed by the first event).
    var recordFrom: UInt64 = 0
    var warmup: UInt64
    var firstRecorded: UInt64 = 0
    var lastRecorded: UInt64 = 0

    init(reactor: Reactor, address: SocketAddress, room: Int64, count: Int, warmupSeconds: Double) {
        self.reactor = reactor
        self.address = address
        self.count = count
        warmup = UInt64(warmupSeconds * 1e9)
        request = Array(
            "GET /events?rooms=\(room) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
    }

    /// Keeps at most 256 connects in flight: a burst of 10,000 would overflow the server's accept backlog.
    func connectMore() {
        while started < count && started - opened - failed < 256 {
            started += 1
            let stream = SubscriberStream(fleet: self)
            do {
                let id = try reactor.connect(to: address, timeout: .seconds(30), handler: stream)
                reactor.write(id, request)
            } catch {
                failed += 1
                progress("serve-subscribers: connect failed: \(error)")
            }
        }
    }

    /// One SSE line (without its newline) of any stream.
    func line(_ bytes: UnsafeRawBufferPointer.SubSequence, now: UInt64) {
        if recordFrom != 0 && now >= recordFrom { result.bytes += bytes.count + 1 }
        guard bytes.count > 5, bytes[bytes.startIndex] == UInt8(ascii: "d") else {
            if bytes.starts(with: "event: gap".utf8) && recordFrom != 0 && now >= recordFrom { result.gaps += 1 }
            return
        }
        guard bytes.starts(with: "data:".utf8) else { return }
        if recordFrom == 0 { recordFrom = now + warmup }
        guard now >= recordFrom else { return }
        if warmup == 0 && result.bytes == 0 { result.bytes = bytes.count + 1 }
        if firstRecorded == 0 { firstRecorded = now }
        lastRecorded = now
        result.events += 1
        guard let sent = Self.sendStamp(bytes) else { return }
        histogram.record(now &- min(now, sent))
    }

    /// The NS of the first `sim-R-SEQ-NS` in the line: the field after the third dash.
    static func sendStamp(_ bytes: UnsafeRawBufferPointer.SubSequence) -> UInt64? {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i + 4 < end {
            if bytes[i] == 0x73, bytes[i + 1] == 0x69, bytes[i + 2] == 0x6D, bytes[i + 3] == 0x2D {  // "sim-"
                var j = i + 4
                var dashes = 0
                while j < end, dashes < 2 {
                    if bytes[j] == 0x2D { dashes += 1 }
                    j += 1
                }
                var value: UInt64 = 0
                var digits = 0
                while j < end, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                    value = value &* 10 &+ UInt64(bytes[j] - 0x30)
                    digits += 1
                    j += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }

    func finish() -> SubscriberResult {
        var r = result
        r.p50 = histogram.quantileMilliseconds(0.50)
        r.p99 = histogram.quantileMilliseconds(0.99)
        r.max = histogram.count > 0 ? Double(histogram.maximum) / 1e6 : .nan
        r.seconds = Double(lastRecorded &- firstRecorded) / 1e9
        return r
    }
}

/// One SSE stream: skips the response head, splits the body into lines and hands them to the fleet.
/// Loop-confined to the child's reactor thread.
final class SubscriberStream: ConnectionHandler {
    private unowned let fleet: SubscriberFleet
    private var headDone = false
    /// The bytes after the last newline of the previous read (a line split across reads).
    private var carry: [UInt8] = []

    init(fleet: SubscriberFleet) { self.fleet = fleet }

    func connectionDidOpen(_ connection: ConnectionID) {}

    func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
        let now = ProcessMetrics.monotonicNanoseconds()
        if !carry.isEmpty || !headDone {
            carry.append(contentsOf: bytes)
            let owned = carry
            carry = []
            owned.withUnsafeBytes { consume($0, now: now) }
        } else {
            consume(bytes, now: now)
        }
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        var start = 0
        if !headDone {
            // The head ends at the first empty line; it is all before the body, so look for CRLFCRLF.
            var i = 0
            while i + 3 < bytes.count {
                if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { break }
                i += 1
            }
            guard i + 3 < bytes.count else {
                carry.append(contentsOf: bytes)
                return
            }
            headDone = true
            start = i + 4
            fleet.opened += 1
            fleet.connectMore()
            if fleet.opened + fleet.failed == fleet.count { writeLine("connected \(fleet.opened)", to: 1) }
        }
        var lineStart = start
        for i in start..<bytes.count where bytes[i] == 10 {
            fleet.line(bytes[lineStart..<i], now: now)
            lineStart = i + 1
        }
        if lineStart < bytes.count { carry.append(contentsOf: bytes[lineStart...]) }
    }

    func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
        if !headDone {
            fleet.failed += 1
            fleet.connectMore()
            if fleet.opened + fleet.failed == fleet.count { writeLine("connected \(fleet.opened)", to: 1) }
        }
    }
}

/// A stream that sends its request and never reads: a blocking socket with a 4 KiB receive buffer, so the server's
/// queue for it fills within seconds. Returns the fd (kept open until the process exits).
private func openStalledSubscriber(port: UInt16, room: Int64) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var size: Int32 = 4096
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        progress("serve-subscribers: stalled subscriber: connect failed, errno \(errno)")
        return -1
    }
    let request = Array("GET /events?rooms=\(room) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    return fd
}

/// The child side: `serve-subscribers --port P --room R --count N [--stalled yes] [--warmup S] [--seconds S]
/// [--quiet S]`. Records for `--seconds` after the warm-up (which starts at the first event), or until no event
/// arrived for `--quiet` seconds, then prints the `result` line and exits.
func serveSubscribers(_ arguments: [String]) -> Never {
    var port: UInt16 = 0, room: Int64 = 1, count = 100, stalled = false
    var warmup = 0.0, seconds = 10.0, quiet = 1.0
    var index = 0
    while index + 1 < arguments.count {
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--port": port = UInt16(value) ?? port
        case "--room": room = Int64(value) ?? room
        case "--count": count = Int(value) ?? count
        case "--stalled": stalled = value == "yes"
        case "--warmup": warmup = Double(value) ?? warmup
        case "--seconds": seconds = Double(value) ?? seconds
        case "--quiet": quiet = Double(value) ?? quiet
        default: break
        }
        index += 2
    }
    do {
        let reactor = try Reactor()
        try reactor.start()
        let address = SocketAddress(ipv4: 0x7F00_0001, port: port)
        let fleet = SubscriberFleet(reactor: reactor, address: address, room: room, count: count, warmupSeconds: warmup)
        let stalledFD = stalled ? openStalledSubscriber(port: port, room: room) : -1
        reactor.execute { fleet.connectMore() }
        // Poll the fleet from this thread through the loop: done after `seconds` of recording or `quiet` of silence.
        var cpuAtStart = -1.0
        var wallAtStart: UInt64 = 0
        while true {
            usleep(50_000)
            let state = reactor.executeAndWait { (fleet.recordFrom, fleet.lastRecorded) }
            // Read after the loop answered: `last` may be later than a clock read before it.
            let now = ProcessMetrics.monotonicNanoseconds()
            guard let (from, last) = state, from != 0, now > from else { continue }
            if cpuAtStart < 0 {
                cpuAtStart = ProcessMetrics.cpuSeconds()
                wallAtStart = now
            }
            let recording = Double(now - from) / 1e9
            let silent = last == 0 ? recording : Double(now - min(now, last)) / 1e9
            if recording >= seconds || silent >= quiet { break }
        }
        var result = reactor.executeAndWait { fleet.finish() } ?? SubscriberResult()
        let wall = Double(ProcessMetrics.monotonicNanoseconds() - wallAtStart) / 1e9
        result.cpuShare = (ProcessMetrics.cpuSeconds() - cpuAtStart) / max(1e-3, wall)
        writeLine(result.line, to: 1)
        if stalledFD >= 0 { close(stalledFD) }
        reactor.shutdown()
        exit(0)
    } catch {
        progress("serve-subscribers failed: \(error)")
        exit(1)
    }
}
