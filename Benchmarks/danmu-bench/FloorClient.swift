import CDanmuSystem
import DanmuClient
import DanmuCodecs
import Glibc
import Synchronization
import TestSupport

/// The floor baseline of issue 11: the least a client can do and still count every message. One thread, one epoll
/// set over all rooms' sockets, one shared read buffer; it walks the 16-byte packet headers, inflates compressed
/// batches (zlib / brotli, with the same DanmuCodecs decoders the library uses) only to count the packets inside,
/// and never looks at a JSON body. Full decode ÷ floor (CPU per event, same simulator, same run) is the overhead of
/// everything danmu does beyond reading the wire.
///
/// Counts what `EventTally` counts: every op-5 packet (inner packets of compressed batches), not heartbeat replies
/// or the auth reply. Runs in this process; read `ProcessMetrics.cpuSeconds()` around it or `threadCPUSeconds`.
final class FloorClient: @unchecked Sendable {
    /// Messages counted so far (op 5 packets).
    let messages = Atomic<Int>(0)
    /// Rooms whose auth reply arrived.
    let live = Atomic<Int>(0)
    /// Connections that failed (connect, a malformed frame, a decompression error) or were closed by the server.
    let failed = Atomic<Int>(0)
    /// CPU seconds of the client thread alone, set when it ends.
    private let threadCPU = Mutex<Double>(0)
    private let stopping = Atomic<Bool>(false)
    /// With `recordLatency`: nanoseconds from the simulator's send stamp (`sim-R-SEQ-NS` in a message body) to the
    /// read that completed the message's frame, one sample per stamped message.
    private let latencies = Mutex<[UInt64]>([])
    private let recordLatency: Bool
    private let port: UInt16
    private let rooms: ClosedRange<Int64>
    private let protover: Int
    private var thread = pthread_t()
    private var started = false

    /// Starts the client thread: it connects every room of `rooms` to 127.0.0.1:`port` and authenticates with
    /// `protover` (3 = brotli batches, 2 = zlib, the simulator's `--compression` decides what it sends).
    /// With `recordLatency`, each stamped message's body is also scanned for its send stamp (the latency floor of
    /// `danmu-bench latency`: the same simulator, no decode beyond decompression).
    init(port: UInt16, rooms: ClosedRange<Int64>, protover: Int = 3, recordLatency: Bool = false) {
        self.recordLatency = recordLatency
        self.port = port
        self.rooms = rooms
        self.protover = protover
        let context = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(
            &thread, nil,
            { raw in
                let client = Unmanaged<FloorClient>.fromOpaque(raw!).takeRetainedValue()
                // Named, so the latency scenario can read this thread's CPU and run-queue wait apart.
                _ = danmu_pthread_setname_np(pthread_self(), "danmu-floor")
                client.run()
                return nil
            }, context) == 0
        {
            started = true
        } else {
            Unmanaged<FloorClient>.fromOpaque(context).release()
            failed.add(rooms.count, ordering: .relaxed)
        }
    }

    var count: Int { messages.load(ordering: .relaxed) }
    var liveRooms: Int { live.load(ordering: .relaxed) }

    /// The latency samples since the last call (see `recordLatency`).
    func takeLatencies() -> [UInt64] {
        latencies.withLock { samples in
            defer { samples = [] }; return samples
        }
    }

    /// Waits until `count` messages were counted or `timeoutSeconds` passed; returns the seconds it took.
    func waitForMessages(_ count: Int, timeoutSeconds: Double) -> Double {
        let start = ProcessMetrics.monotonicNanoseconds()
        while self.count < count {
            let elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
            if elapsed > timeoutSeconds { return elapsed }
            usleep(1_000)
        }
        return Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
    }

    /// Waits until every room is live (or failed) or the deadline passes; the seconds it took, nil on timeout.
    func waitUntilLive(timeoutSeconds: Double) -> Double? {
        let start = ProcessMetrics.monotonicNanoseconds()
        while true {
            let elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
            if liveRooms + failed.load(ordering: .relaxed) >= rooms.count { return elapsed }
            if elapsed > timeoutSeconds { return nil }
            usleep(5_000)
        }
    }

    /// Stops the thread, closes every socket and returns the thread's CPU seconds. Idempotent.
    @discardableResult
    func stop() -> Double {
        stopping.store(true, ordering: .relaxed)
        if started {
            pthread_join(thread, nil)
            started = false
        }
        return threadCPU.withLock { $0 }
    }

    // MARK: the client thread

    /// One room's socket and the tail of a frame split across reads (empty almost always).
    private struct Connection {
        var fd: Int32
        var partial: [UInt8] = []
        var open = true
    }

    private func run() {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else {
            failed.add(rooms.count, ordering: .relaxed)
            return
        }
        var connections: [Connection] = []
        connections.reserveCapacity(rooms.count)
        for room in rooms {
            let fd = connect()
            guard fd >= 0, sendAll(fd, Packet.auth(AuthBody(roomID: room, protover: protover, key: "", buvid: "")))
            else {
                if fd >= 0 { close(fd) }
                failed.add(1, ordering: .relaxed)
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = UInt64(connections.count)
            _ = epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
            connections.append(Connection(fd: fd))
        }
        // One read buffer for every socket, as redis's ae does.
        let bufferSize = 256 << 10
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        let heartbeat = Packet.heartbeat()
        var nextHeartbeat = ProcessMetrics.monotonicNanoseconds() + 20_000_000_000
        while !stopping.load(ordering: .relaxed) {
            let ready = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll, $0.baseAddress, Int32($0.count), 50)
            }
            if ready < 0 && errno != EINTR { break }
            for index in 0..<max(0, Int(ready)) {
                let slot = Int(events[index].data.u64)
                guard connections[slot].open else { continue }
                if !drain(&connections[slot], buffer: buffer, heartbeat: heartbeat) {
                    connections[slot].open = false
                    close(connections[slot].fd)
                    failed.add(1, ordering: .relaxed)
                }
            }
            // The simulator closes a connection silent for 70 s (as the live server does).
            let now = ProcessMetrics.monotonicNanoseconds()
            if now >= nextHeartbeat {
                nextHeartbeat = now + 20_000_000_000
                for connection in connections where connection.open { _ = sendAll(connection.fd, heartbeat) }
            }
        }
        for connection in connections where connection.open { close(connection.fd) }
        close(epoll)
        let cpu = threadCPUSeconds()
        threadCPU.withLock { $0 = cpu }
    }

    /// Reads until EAGAIN (level-triggered: at most 4 reads per wake-up, for fairness between rooms). False when
    /// the connection ended or sent something that is not a frame.
    private func drain(_ connection: inout Connection, buffer: UnsafeMutableRawBufferPointer, heartbeat: [UInt8])
        -> Bool
    {
        for _ in 0..<4 {
            let n = recv(connection.fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            if n == 0 { return false }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if connection.partial.isEmpty {
                guard let used = scan(chunk, fd: connection.fd, heartbeat: heartbeat) else { return false }
                if used < n { connection.partial.append(contentsOf: chunk[used...]) }
            } else {
                connection.partial.append(contentsOf: chunk)
                let used = connection.partial.withUnsafeBytes { scan($0, fd: connection.fd, heartbeat: heartbeat) }
                guard let used else { return false }
                connection.partial.removeSubrange(0..<used)
            }
            if n < buffer.count { return true }
        }
        return true
    }

    /// Counts the whole frames at the start of `bytes`; returns how many bytes they took (nil: not a frame).
    private func scan(_ bytes: UnsafeRawBufferPointer, fd: Int32, heartbeat: [UInt8]) -> Int? {
        var offset = 0
        var counted = 0
        var stamps: [UInt64] = []
        defer {
            if counted > 0 { messages.add(counted, ordering: .relaxed) }
            if !stamps.isEmpty {
                let now = ProcessMetrics.monotonicNanoseconds()
                latencies.withLock { samples in
                    for sent in stamps { samples.append(now &- min(now, sent)) }
                }
            }
        }
        while bytes.count - offset >= PacketHeader.size {
            let length = Int(readBigEndian32(bytes, offset))
            let headerLength = Int(readBigEndian16(bytes, offset + 4))
            guard length >= PacketHeader.size, headerLength >= PacketHeader.size, headerLength <= length else {
                return nil
            }
            guard bytes.count - offset >= length else { break }
            let protover = readBigEndian16(bytes, offset + 6)
            let operation = readBigEndian32(bytes, offset + 8)
            let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerLength)..<(offset + length)])
            switch operation {
            case Operation.message.rawValue:
                switch protover {
                case 2:
                    guard let inner = try? Zlib.decompress(body),
                        let n = inner.withUnsafeBytes({ countMessages($0, stamps: &stamps) })
                    else { return nil }
                    counted += n
                case 3:
                    guard let inner = try? Brotli.decompress(body),
                        let n = inner.withUnsafeBytes({ countMessages($0, stamps: &stamps) })
                    else { return nil }
                    counted += n
                default:
                    counted += 1
                    if recordLatency, let sent = SubscriberFleet.sendStamp(body[...]) { stamps.append(sent) }
                }
            case Operation.authReply.rawValue:
                live.add(1, ordering: .relaxed)
                _ = sendAll(fd, heartbeat)
            default:
                break
            }
            offset += length
        }
        return offset
    }

    /// The op-5 packets of an inflated batch (whole packets only; nil when it is not a packet sequence).
    private func countMessages(_ bytes: UnsafeRawBufferPointer, stamps: inout [UInt64]) -> Int? {
        var offset = 0
        var count = 0
        while bytes.count - offset >= PacketHeader.size {
            let length = Int(readBigEndian32(bytes, offset))
            guard length >= PacketHeader.size, bytes.count - offset >= length else { return nil }
            if readBigEndian32(bytes, offset + 8) == Operation.message.rawValue {
                count += 1
                if recordLatency,
                    let sent = SubscriberFleet.sendStamp(bytes[(offset + PacketHeader.size)..<(offset + length)])
                {
                    stamps.append(sent)
                }
            }
            offset += length
        }
        return offset == bytes.count ? count : nil
    }

    private func readBigEndian32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    private func readBigEndian16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// A blocking connect to 127.0.0.1:`port` (the socket is made non-blocking after the auth is sent); -1 on failure.
    private func connect() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        guard connectToLoopback(fd, port: port) == 0 else {
            close(fd)
            return -1
        }
        return fd
    }

}

/// One flood round through the floor client: `rooms` rooms × `limitPerRoom` messages from a simulator process
/// (`compression` none / zlib / brotli). Returns the messages counted, the wall seconds to count them and the
/// client thread's CPU seconds (nil when the simulator did not start).
func runFloorFlood(rooms: Int, limitPerRoom: Int, compression: String, timeoutSeconds: Double)
    -> (messages: Int, seconds: Double, cpuSeconds: Double)?
{
    guard
        let server = try? SimulatorProcess(
            .init(rooms: rooms, rate: 0, compression: compression, limitPerRoom: limitPerRoom, batch: 10))
    else { return nil }
    let client = FloorClient(port: server.port, rooms: 1...Int64(rooms), protover: compression == "zlib" ? 2 : 3)
    let seconds = client.waitForMessages(rooms * limitPerRoom, timeoutSeconds: timeoutSeconds)
    let cpu = client.stop()
    _ = server.stop()
    return (client.count, seconds, cpu)
}

/// `floor` (opt-in): the floor client alone, 100 rooms flooding, plain / zlib / brotli; CPU µs per message of the
/// client thread, the denominator of issue 11's "full decode ÷ floor".
func runFloorBenchmark(rooms: Int, limitPerRoom: Int, runs: Int, timeoutSeconds: Double) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    for compression in ["none", "zlib", "brotli"] {
        var perEvent: [Double] = []
        var lost = 0
        for run in 1...runs {
            progress("floor: \(rooms) rooms × \(limitPerRoom) msgs, \(compression), run \(run)/\(runs)")
            guard
                let result = runFloorFlood(
                    rooms: rooms, limitPerRoom: limitPerRoom, compression: compression,
                    timeoutSeconds: timeoutSeconds)
            else { continue }
            lost += max(0, rooms * limitPerRoom - result.messages)
            perEvent.append(result.cpuSeconds / Double(max(1, result.messages)) * 1e6)
        }
        guard !perEvent.isEmpty else { continue }
        figures.append(
            BenchmarkFigure(
                name: "floor.\(compression).cpu_per_event", value: median(perEvent), unit: "µs",
                note: "median of \(perEvent.count); client thread incl. connect; "
                    + (lost == 0 ? "none missing" : "\(lost) missing")))
    }
    return figures
}
