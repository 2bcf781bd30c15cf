import CDanmuSystem
import DanmuClient
import Glibc
import Synchronization
import TestSupport

/// The design danmu exists to beat: one blocking thread per room, each with its own socket, 16 KiB read buffer,
/// frame decoder and message decoder (as the oldest collectors did). Same simulator, same decoding, same counting.
func runThreadsBaseline(roomCounts: [Int], seconds: Double, chart: inout ChartData) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    for rooms in roomCounts {
        progress("threads baseline: \(rooms) rooms, one thread each, for \(seconds) s")
        do {
            let server = try SimulatorProcess(.init(rooms: rooms, rate: 1, compression: "brotli"))
            let shared = BaselineShared()
            let rssBefore = ProcessMetrics.residentBytes()
            let cpuBefore = ProcessMetrics.cpuSeconds()
            let start = ProcessMetrics.monotonicNanoseconds()
            var threads: [pthread_t] = []
            var startFailures = 0
            for room in 1...rooms {
                let worker = BaselineRoomThread(room: Int64(room), port: server.port, shared: shared)
                let context = Unmanaged.passRetained(worker).toOpaque()
                var thread = pthread_t()
                if pthread_create(
                    &thread, nil,
                    { raw in
                        let worker = Unmanaged<BaselineRoomThread>.fromOpaque(raw!).takeRetainedValue()
                        worker.run()
                        return nil
                    }, context) == 0
                {
                    threads.append(thread)
                } else {
                    Unmanaged<BaselineRoomThread>.fromOpaque(context).release()
                    startFailures += 1
                }
            }
            var connectSeconds = Double.nan
            while Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9 < 120 {
                if shared.live.load(ordering: .relaxed) + shared.failed.load(ordering: .relaxed) + startFailures
                    >= rooms
                {
                    connectSeconds = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
                    break
                }
                usleep(20_000)
            }
            sleepSeconds(1)
            let rssPerRoom = Double(ProcessMetrics.residentBytes() - rssBefore) / Double(rooms)
            let countBefore = shared.messages.load(ordering: .relaxed)
            let cpuSteady = ProcessMetrics.cpuSeconds()
            sleepSeconds(seconds)
            let events = shared.messages.load(ordering: .relaxed) - countBefore
            let steadyCPU = ProcessMetrics.cpuSeconds() - cpuSteady
            let totalCPU = ProcessMetrics.cpuSeconds() - cpuBefore
            let live = shared.live.load(ordering: .relaxed)
            shared.stop()
            for thread in threads { pthread_join(thread, nil) }
            _ = server.stop()
            let label = "threads.\(rooms)"
            figures += [
                BenchmarkFigure(
                    name: "\(label).connect_all", value: connectSeconds, unit: "s",
                    note: "\(live) live, \(startFailures) threads not started, "
                        + "\(shared.failed.load(ordering: .relaxed)) failed"),
                BenchmarkFigure(name: "\(label).rss_per_room", value: rssPerRoom, unit: "B"),
                BenchmarkFigure(name: "\(label).events_per_s", value: Double(events) / seconds, unit: "ev/s"),
                BenchmarkFigure(
                    name: "\(label).client_cpu", value: totalCPU, unit: "s",
                    note: "steady \(format(steadyCPU)) s over \(format(seconds)) s"),
            ]
            chart.add(
                series: "thread per room", metric: .eventsPerSecond, rooms: rooms, value: Double(events) / seconds)
            chart.add(series: "thread per room", metric: .bytesPerRoom, rooms: rooms, value: rssPerRoom)
        } catch {
            figures.append(BenchmarkFigure(name: "threads.\(rooms)", value: .nan, unit: "", note: "failed: \(error)"))
        }
    }
    return figures
}

/// What the baseline threads share: counters and the list of sockets to shut down at the end.
final class BaselineShared: Sendable {
    let messages = Atomic<Int>(0)
    let live = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    private let sockets = Mutex<[Int32]>([])

    func register(_ fd: Int32) -> Bool {
        sockets.withLock { list in
            guard !stopping.load(ordering: .relaxed) else { return false }
            list.append(fd)
            return true
        }
    }

    /// Wakes every blocked recv (shutdown, not close: the owning thread closes its own fd).
    func stop() {
        sockets.withLock { list in
            stopping.store(true, ordering: .relaxed)
            for fd in list { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}

final class BaselineRoomThread: @unchecked Sendable {
    let room: Int64
    let port: UInt16
    let shared: BaselineShared

    init(room: Int64, port: UInt16, shared: BaselineShared) {
        self.room = room
        self.port = port
        self.shared = shared
    }

    func run() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { shared.failed.add(1, ordering: .relaxed); return }
        defer { close(fd) }
        guard shared.register(fd), connectToLoopback(fd, port: port) == 0 else {
            shared.failed.add(1, ordering: .relaxed); return
        }
        let auth = Packet.auth(AuthBody(roomID: room, protover: 3, key: "", buvid: ""))
        guard sendAll(fd, auth) else { shared.failed.add(1, ordering: .relaxed); return }
        var frames = FrameDecoder()
        var decoder = MessageDecoder()
        var events: [DanmuEvent] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var authenticated = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            do {
                let received = try buffer.withUnsafeBytes {
                    try frames.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n]))
                }
                for frame in received {
                    events.removeAll(keepingCapacity: true)
                    try decoder.decode(frame, into: &events)
                    for event in events {
                        switch event {
                        case .authReply:
                            if !authenticated {
                                authenticated = true
                                shared.live.add(1, ordering: .relaxed)
                                _ = sendAll(fd, Packet.heartbeat())
                            }
                        case .popularity: break
                        default: shared.messages.add(1, ordering: .relaxed)
                        }
                    }
                }
            } catch {
                shared.failed.add(1, ordering: .relaxed)
                return
            }
        }
    }

}
