import DanmuSimulator
import EventLoop
import Glibc

/// The simulator in its own process (`danmu-bench serve-simulator ...`), so the client's CPU and memory readings
/// contain only the client. The child prints `port N` once listening and `sent N` when it stops on SIGTERM.
final class SimulatorProcess {
    struct Options {
        var rooms = 1_000
        var rate = 1.0
        var compression = "brotli"
        var limitPerRoom: Int?
        var batch = 10
        /// The `closeAfter` fault on every connection of every room (the churn scenario).
        var closeAfter: Int?
        /// Danmaku only (every message a danmaku) instead of the realistic mix.
        var danmakuOnly = false
        /// Also serve ws and, with a certificate and key, wss (both on free ports).
        var webSocket = false
        var tlsCertificate: String?
        var tlsKey: String?

        var arguments: [String] {
            var args = [
                "serve-simulator", "--rooms", String(rooms), "--rate", String(rate),
                "--compression", compression, "--batch", String(batch),
            ]
            if let limitPerRoom { args += ["--limit", String(limitPerRoom)] }
            if let closeAfter { args += ["--close-after", String(closeAfter)] }
            if danmakuOnly { args += ["--mix", "danmaku"] }
            if webSocket { args += ["--ws", "yes"] }
            if let tlsCertificate, let tlsKey { args += ["--tls-cert", tlsCertificate, "--tls-key", tlsKey] }
            return args
        }
    }

    let port: UInt16
    /// The ws and wss ports, when asked for (0 otherwise).
    private(set) var wsPort: UInt16 = 0
    private(set) var wssPort: UInt16 = 0
    private let child: ChildProcess
    private let childrenCPUBefore: Double

    init(_ options: Options) throws(ChildProcessError) {
        childrenCPUBefore = ProcessMetrics.childrenCPUSeconds()
        child = try ChildProcess(selfWith: options.arguments)
        guard let line = child.readLine(), line.hasPrefix("port "), let port = UInt16(line.dropFirst(5)) else {
            child.terminate()
            throw ChildProcessError(message: "the simulator process did not report its port")
        }
        self.port = port
        if options.webSocket {
            guard let line = child.readLine(), line.hasPrefix("ws "), let ws = UInt16(line.dropFirst(3)) else {
                child.terminate()
                throw ChildProcessError(message: "the simulator process did not report its ws port")
            }
            wsPort = ws
        }
        if options.tlsCertificate != nil {
            guard let line = child.readLine(), line.hasPrefix("wss "), let wss = UInt16(line.dropFirst(4)) else {
                child.terminate()
                throw ChildProcessError(message: "the simulator process did not report its wss port")
            }
            wssPort = wss
        }
    }

    /// What one room of the child simulator reported when it stopped (`room <id> <messages> <lastSeq> <auths>`).
    struct RoomReport {
        var messagesSent: UInt64
        var lastSeq: UInt64
        var authsOK: UInt64
    }

    /// Stops the simulator; returns the messages it sent, the CPU seconds it used and its per-room counters.
    func stop() -> (messagesSent: UInt64, cpuSeconds: Double, rooms: [Int64: RoomReport]) {
        kill(child.pid, SIGTERM)
        var sent: UInt64 = 0
        var rooms: [Int64: RoomReport] = [:]
        while let line = child.readLine() {
            if line.hasPrefix("sent "), let value = UInt64(line.dropFirst(5)) { sent = value }
            let fields = line.split(separator: " ")
            if fields.count == 5, fields[0] == "room", let room = Int64(fields[1]), let messages = UInt64(fields[2]),
                let lastSeq = UInt64(fields[3]), let auths = UInt64(fields[4])
            {
                rooms[room] = RoomReport(messagesSent: messages, lastSeq: lastSeq, authsOK: auths)
            }
        }
        child.wait()
        return (sent, ProcessMetrics.childrenCPUSeconds() - childrenCPUBefore, rooms)
    }
}

/// The child side: `serve-simulator --rooms N --rate R --compression none|zlib|brotli [--limit M] [--batch B]
/// [--close-after N] [--mix danmaku]`.
func serveSimulator(_ arguments: [String]) -> Never {
    var rooms = 1_000, batch = 10, limit: Int? = nil, closeAfter: Int? = nil
    var mix = MessageMix.realistic
    var rate = 1.0
    var compression = Compression.brotli
    var webSocket = false
    var tlsCertificate: String?, tlsKey: String?
    var index = 0
    while index + 1 < arguments.count {
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--rooms": rooms = Int(value) ?? rooms
        case "--rate": rate = Double(value) ?? rate
        case "--batch": batch = Int(value) ?? batch
        case "--limit": limit = Int(value)
        case "--close-after": closeAfter = Int(value)
        case "--mix": mix = value == "danmaku" ? .danmakuOnly : .realistic
        case "--compression": compression = Compression(rawValue: value) ?? compression
        case "--ws": webSocket = value == "yes"
        case "--tls-cert": tlsCertificate = value
        case "--tls-key": tlsKey = value
        default: break
        }
        index += 2
    }
    // Block the stop signals before any thread starts, so every thread inherits the mask and sigwait gets them.
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGTERM)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &signals, nil)
    do {
        let reactor = try Reactor()
        try reactor.start()
        var configuration = Simulator.Configuration(
            rooms: .range(1...Int64(max(1, rooms))), ratePerRoom: rate, messageLimitPerRoom: limit,
            compression: .always(compression), batchSize: batch, mix: mix,
            faults: closeAfter.map { [FaultRule(.closeAfter(messages: $0), rooms: .all)] } ?? [])
        if webSocket { configuration.webSocketListen = .loopback(port: 0) }
        if tlsCertificate != nil {
            configuration.secureWebSocketListen = .loopback(port: 0)
            configuration.tlsCertificateFile = tlsCertificate
            configuration.tlsKeyFile = tlsKey
        }
        let simulator = Simulator(reactor: reactor, configuration: configuration)
        let addresses = try simulator.startEndpoints()
        writeLine("port \(addresses.tcp.port)", to: 1)
        if let ws = addresses.ws { writeLine("ws \(ws.port)", to: 1) }
        if let wss = addresses.wss { writeLine("wss \(wss.port)", to: 1) }
        var received: Int32 = 0
        sigwait(&signals, &received)
        let statistics = simulator.statistics()
        simulator.stop()
        reactor.shutdown()
        // Per-room counters first, so a parent that finds events missing can name the rooms and compare.
        for room in statistics.rooms.values.sorted(by: { $0.room < $1.room }) {
            writeLine("room \(room.room) \(room.messagesSent) \(room.lastSeq) \(room.authsOK)", to: 1)
        }
        writeLine("sent \(statistics.messagesSent)", to: 1)
        exit(0)
    } catch {
        progress("serve-simulator failed: \(error)")
        exit(1)
    }
}
