import DanmuClient
import DanmuSimulator
import Glibc
import Synchronization

/// Counts what a collector's handler sees; shared by the client-side scenarios.
final class EventTally: Sendable {
    let messages = Atomic<Int>(0)
    /// Latency samples (nanoseconds from the simulator's send to the handler), when recording is on.
    private let latencies = Mutex<[UInt64]>([])
    let recordLatency: Bool

    init(recordLatency: Bool = false) { self.recordLatency = recordLatency }

    var handler: DanmuHandlers {
        let tally = self
        return DanmuHandlers(event: { event in
            switch event.event {
            case .popularity, .authReply: return  // connection control, not chat
            case .danmaku(let danmaku) where tally.recordLatency:
                if let idStr = danmaku.idStr, let sent = simulatedSendTime(idStr) {
                    let now = ProcessMetrics.monotonicNanoseconds()
                    tally.latencies.withLock { $0.append(now &- min(now, sent)) }
                }
            default: break
            }
            tally.messages.add(1, ordering: .relaxed)
        })
    }

    var count: Int { messages.load(ordering: .relaxed) }

    func takeLatencies() -> [UInt64] {
        latencies.withLock { samples in
            defer { samples = [] }; return samples
        }
    }
}

/// The send time in a simulated danmaku's `id_str` (`sim-<room>-<seq>-<ns>`), read from its last field without
/// allocating. `SimulatedMessageID(idStr:)` splits the string into substrings: in the latency scenario that parse,
/// run on the worker by the harness's own handler, was ~10 % of the worker's CPU (perf), time that queued the
/// next rooms' batches and was counted as danmu's latency.
func simulatedSendTime(_ idStr: String) -> UInt64? {
    var idStr = idStr
    return idStr.withUTF8 { bytes -> UInt64? in
        guard bytes.count > 4, bytes[0] == 0x73, bytes[1] == 0x69, bytes[2] == 0x6D, bytes[3] == 0x2D else {
            return nil
        }
        var index = bytes.count
        while index > 4 && bytes[index - 1] != 0x2D { index -= 1 }
        guard index > 4, index < bytes.count, bytes.count - index <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in bytes[index...] {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }
}

/// A transport other than the default TCP to 127.0.0.1: which, the server with its ws/wss ports, the CA to trust.
struct ClientTransport {
    var kind: DanmuCollector.Configuration.Transport
    var server: ServerAddress
    var caFile: String?
}

/// A collector pointed at a simulator process, with the readings every scenario takes around it.
struct ClientRun {
    let collector: DanmuCollector
    let tally: EventTally

    init(
        port: UInt16, rooms: Int, tally: EventTally, workers: Int? = nil,
        transport: ClientTransport? = nil, configure: (inout DanmuCollector.Configuration) -> Void = { _ in }
    ) throws {
        var configuration = DanmuCollector.Configuration(server: .init(host: "127.0.0.1", port: port), workers: workers)
        configuration.protover = 3
        if let transport {
            configuration.transport = transport.kind
            configuration.server = transport.server
            if let caFile = transport.caFile { configuration.tls.verification = .caFile(caFile) }
        }
        configure(&configuration)
        collector = try DanmuCollector(configuration: configuration)
        self.tally = tally
        collector.setHandler(tally.handler)
        try collector.start()
    }

    /// Waits until `rooms` rooms are live (or the deadline passes); returns the seconds it took, nil on timeout.
    func waitUntilLive(_ rooms: Int, timeoutSeconds: Double) -> Double? {
        let start = ProcessMetrics.monotonicNanoseconds()
        while true {
            let elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
            if collector.statistics().roomsLive >= rooms { return elapsed }
            if elapsed > timeoutSeconds { return nil }
            usleep(20_000)
        }
    }

    /// Waits until the tally reaches `count` (or the deadline passes); returns the seconds it took.
    func waitForMessages(_ count: Int, timeoutSeconds: Double) -> Double {
        let start = ProcessMetrics.monotonicNanoseconds()
        while tally.count < count {
            let elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
            if elapsed > timeoutSeconds { return elapsed }
            usleep(2_000)
        }
        return Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
    }
}

func sleepSeconds(_ seconds: Double) {
    usleep(UInt32(seconds * 1_000_000))
}
