import DanmuSimulator
import EventLoop
import Glibc

/// `danmu-cli simulate --listen HOST:PORT`: run the Bilibili-compatible simulator as a server.
enum SimulateCommand: CLICommand {
    static let name = "simulate"
    static let summary = "run the built-in Bilibili-compatible server (for tests, demos, benchmarks)"
    static let usage = ["--listen HOST:PORT [options]"]
    static let options: [OptionSpec] = [
        OptionSpec(name: "listen", valueName: "HOST:PORT", help: "address to listen on (port 0: a free port, printed)"),
        OptionSpec(name: "rooms", valueName: "N", help: "serve rooms 1...N (default 1000)"),
        OptionSpec(name: "rate", valueName: "R", help: "messages per second per room, 0 = flood (default 5)"),
        OptionSpec(name: "limit", valueName: "N", help: "stop sending to a room after N messages"),
        OptionSpec(
            name: "compression", valueName: "auto|none|zlib|brotli",
            help: "batch compression; auto follows the client's protover"),
        OptionSpec(name: "batch", valueName: "N", help: "messages per packet (default 10)"),
        OptionSpec(
            name: "mix", valueName: "realistic|danmaku", help: "message kinds: a busy room's mix, or danmaku only"),
        OptionSpec(
            name: "delivery", valueName: "one|every",
            help: "a room's messages to one of its connections each (default), or to every one (broadcast)"),
        OptionSpec(name: "fault", valueName: "FAULT", help: "inject a fault (repeatable), see below"),
        OptionSpec(
            name: "duration", valueName: "SECONDS", help: "stop after SECONDS (default: until Ctrl-C / SIGTERM)"),
        OptionSpec(name: "ws-port", valueName: "PORT", help: "also serve ws://HOST:PORT/sub (0: a free port, printed)"),
        OptionSpec(
            name: "wss-port", valueName: "PORT", help: "also serve wss://HOST:PORT/sub (needs --tls-cert, --tls-key)"),
        OptionSpec(name: "tls-cert", valueName: "FILE", help: "PEM certificate chain of the wss endpoint"),
        OptionSpec(name: "tls-key", valueName: "FILE", help: "PEM private key of the wss endpoint"),
        OptionSpec(name: "summary", help: "print per-room sent totals as one JSON line on stderr at exit"),
        OptionSpec(
            name: "api-port", valueName: "PORT",
            help: "also serve the live site's HTTP API (room_init, nav, getDanmuInfo, room list); AUTH then needs "
                + "its tokens"),
        OptionSpec(
            name: "rotate-wbi-after-nav", valueName: "N",
            help: "test switch: rotate the WBI keys after the N-th nav answer (signatures made with them get -352)"),
    ]
    static var details: String {
        """
        Prints "listening on HOST:PORT" on stdout once ready, then serves until SIGINT/SIGTERM or --duration.
        Every danmaku carries "sim-<room>-<seq>-<ns>" as its id_str; seq counts 1, 2, 3… per room across
        reconnects, so a client can prove it lost nothing. With --summary the exit prints one JSON line on
        stderr: {"rooms":N,"messages":M,"danmaku":D,"connections":C,"sent":{"<room>":<danmaku sent>,…}}.
        """ + "\n\n" + SimulateOptions.faultHelp
    }

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        guard arguments.positionals.isEmpty else {
            throw UsageError("simulate takes no positional arguments, got \(arguments.positionals[0])")
        }
        guard let listenText = arguments.string("listen") else { throw UsageError("--listen HOST:PORT is required") }
        var options = SimulateOptions(listen: try HostPort.parse(listenText, option: "listen", allowZero: true))
        options.rooms = try arguments.int("rooms", in: 1...1_000_000) ?? options.rooms
        options.limit = try arguments.int("limit", in: 1...Int(Int32.max))
        options.mix = try arguments.choice("mix", ["realistic", "danmaku"]) ?? options.mix
        options.rate = try arguments.number("rate", in: 0...1_000_000) ?? options.rate
        options.compression =
            try arguments.choice("compression", ["auto", "none", "zlib", "brotli"]) ?? options.compression
        options.batch = try arguments.int("batch", in: 1...10_000) ?? options.batch
        options.delivery = try arguments.choice("delivery", ["one", "every"]) ?? options.delivery
        options.faults = try arguments.all("fault").map { (text) throws(UsageError) in
            try SimulateOptions.parseFault(text)
        }
        options.duration = try arguments.seconds("duration")
        options.summary = arguments.has("summary")
        options.wsPort = try arguments.int("ws-port", in: 0...65535).map { UInt16($0) }
        options.wssPort = try arguments.int("wss-port", in: 0...65535).map { UInt16($0) }
        options.tlsCertificate = arguments.string("tls-cert")
        options.tlsKey = arguments.string("tls-key")
        options.apiPort = try arguments.int("api-port", in: 0...65535).map { UInt16($0) }
        options.rotateWBIAfterNav = try arguments.int("rotate-wbi-after-nav", in: 1...1_000_000)
        if options.rotateWBIAfterNav != nil, options.apiPort == nil {
            throw UsageError("--rotate-wbi-after-nav applies to --api-port only")
        }
        if options.wssPort != nil, options.tlsCertificate == nil || options.tlsKey == nil {
            throw UsageError("--wss-port needs --tls-cert FILE and --tls-key FILE")
        }
        if options.wssPort == nil, options.tlsCertificate != nil || options.tlsKey != nil {
            throw UsageError("--tls-cert and --tls-key apply to --wss-port only")
        }
        return simulate(options)
    }

    static func simulate(_ options: SimulateOptions) -> Int32 {
        let stop = StopLatch()
        SignalWatcher.start { signal in stop.trigger(signal.signalName) }
        let started = SystemClock.monotonicNanoseconds()
        let server: SimulatorServer
        switch SimulatorServer.start(options) {
        case .success(let running): server = running
        case .failure(let error):
            StandardError.print("danmu-cli simulate: \(error.message)")
            return 1
        }
        // Scripts and tests read this line to learn the port (with --listen HOST:0).
        _ = Posix.writeAll(STDOUT_FILENO, "listening on \(server.address)\n")
        if let ws = server.addresses.ws { _ = Posix.writeAll(STDOUT_FILENO, "ws listening on ws://\(ws)/sub\n") }
        if let wss = server.addresses.wss { _ = Posix.writeAll(STDOUT_FILENO, "wss listening on wss://\(wss)/sub\n") }
        if let api = server.addresses.httpAPI {
            _ = Posix.writeAll(STDOUT_FILENO, "api listening on http://\(api)\n")
        }
        let deadline = options.duration.map { started + UInt64($0 * 1e9) } ?? UInt64.max
        _ = stop.wait(untilMonotonic: deadline)
        let statistics = server.stop()
        if options.summary {
            StandardError.print(SimulatorServer.summary(statistics, rooms: options.rooms, address: server.address))
        }
        return 0
    }
}

/// A simulator on its own reactor: shared by `simulate` and `demo`.
struct SimulatorServer {
    let reactor: Reactor
    let simulator: Simulator
    let address: SocketAddress
    let addresses: SimulatorAddresses

    static func start(_ options: SimulateOptions) -> Result<SimulatorServer, UsageError> {
        let listen: SocketAddress
        switch options.listen.resolveIPv4() {
        case .success(let ip):
            do throws(SystemError) {
                listen = try SocketAddress(ipv4: ip, port: options.listen.port)
            } catch {
                return .failure(UsageError("--listen \(options.listen): \(error)"))
            }
        case .failure(let error): return .failure(UsageError("--listen: \(error.message)"))
        }
        var configuration = Simulator.Configuration(
            listen: listen, rooms: .range(1...Int64(options.rooms)), ratePerRoom: options.rate,
            messageLimitPerRoom: options.limit, batchSize: options.batch,
            mix: options.mix == "danmaku" ? .danmakuOnly : .realistic,
            faults: options.faults.map(\.rule))
        if let compression = Compression(rawValue: options.compression) {
            configuration.compression = .always(compression)
        }
        configuration.webSocketListen = options.wsPort.map { SocketAddress(ipv4: listen.ipv4, port: $0) }
        configuration.secureWebSocketListen = options.wssPort.map { SocketAddress(ipv4: listen.ipv4, port: $0) }
        configuration.tlsCertificateFile = options.tlsCertificate
        configuration.tlsKeyFile = options.tlsKey
        configuration.httpAPIListen = options.apiPort.map { SocketAddress(ipv4: listen.ipv4, port: $0) }
        configuration.site.rotateWBIKeysAfterNavs = options.rotateWBIAfterNav
        configuration.delivery = options.delivery == "every" ? .everyConnection : .oneConnection
        let reactor: Reactor
        do throws(SystemError) {
            reactor = try Reactor()
            try reactor.start()
        } catch {
            return .failure(UsageError("cannot start the event loop: \(error)"))
        }
        let simulator = Simulator(reactor: reactor, configuration: configuration)
        do throws(SimulatorError) {
            let addresses = try simulator.startEndpoints()
            return .success(
                SimulatorServer(reactor: reactor, simulator: simulator, address: addresses.tcp, addresses: addresses))
        } catch {
            reactor.shutdown()
            return .failure(UsageError("cannot listen on \(options.listen): \(error)"))
        }
    }

    /// Stops serving (every connection closed) and returns the final counters.
    func stop() -> SimulatorStatistics {
        simulator.stop()
        let statistics = simulator.statistics()
        reactor.shutdown()
        return statistics
    }

    /// {"listen":"127.0.0.1:5000","rooms":200,"messages":M,"danmaku":D,"connections":C,"sent":{"1":12,…}}
    static func summary(_ statistics: SimulatorStatistics, rooms: Int, address: SocketAddress) -> String {
        var json = SummaryJSON()
        json.add("listen", address.description)
        json.add("rooms", rooms)
        json.add("messages", Int(statistics.messagesSent))
        json.add("danmaku", Int(statistics.danmakuSent))
        json.add("connections", Int(statistics.connectionsAccepted))
        json.add("auths_ok", Int(statistics.authsOK))
        json.add("auths_failed", Int(statistics.authsFailed))
        json.add("heartbeats", Int(statistics.heartbeatsAnswered))
        json.add("bytes_sent", Int(statistics.bytesSent))
        json.add("faults", Int(statistics.faultsTriggered))
        json.add("deliveries", Int(statistics.deliveries))
        let sent = statistics.rooms.values.filter { $0.authsOK > 0 || $0.danmakuSent > 0 }.sorted { $0.room < $1.room }
        json.add("sent", object: sent.map { (String($0.room), Int($0.danmakuSent)) })
        return json.text
    }
}

/// Validated `simulate` arguments.
struct SimulateOptions {
    var listen: HostPort
    var rooms = 1000
    var rate = 5.0
    var compression = "auto"
    var batch = 10
    var delivery = "one"
    var limit: Int? = nil
    var mix = "realistic"
    var faults: [FaultOption] = []
    var duration: Double? = nil
    var summary = false
    var wsPort: UInt16? = nil
    var wssPort: UInt16? = nil
    var tlsCertificate: String? = nil
    var tlsKey: String? = nil
    /// --api-port: the simulated live site's HTTP API.
    var apiPort: UInt16? = nil
    var rotateWBIAfterNav: Int? = nil

    /// A fault as typed on the command line: `NAME[=N][,every=K][,first=C]`.
    struct FaultOption: Equatable {
        enum Kind: Equatable {
            case closeAfter(Int)
            case garbageHeader(Int)
            case absurdLength(Int)
            case stall(Int)
            case tinyWrites, noAuthReply, noHeartbeatReply
        }
        var kind: Kind
        /// Only rooms whose id is a multiple of `every` (nil: all rooms).
        var every: Int? = nil
        /// Only each room's first `first` connections (nil: all of them).
        var first: Int? = nil

        /// The simulator's rule for this fault.
        var rule: FaultRule {
            let fault: Fault
            switch kind {
            case .closeAfter(let n): fault = .closeAfter(messages: n)
            case .garbageHeader(let n): fault = .garbageHeader(afterMessages: n)
            case .absurdLength(let n): fault = .absurdLength(afterMessages: n)
            case .stall(let n): fault = .stall(afterMessages: n)
            case .tinyWrites: fault = .tinyWrites
            case .noAuthReply: fault = .noAuthReply
            case .noHeartbeatReply: fault = .noHeartbeatReply
            }
            return FaultRule(fault, rooms: every.map { .everyKth($0, remainder: 0) } ?? .all, firstConnections: first)
        }
    }

    static let faultHelp = """
        faults (--fault NAME[=N][,every=K][,first=C], repeatable):
          close-after=N        close the connection after N messages
          garbage-header=N     after N messages send a header no parser accepts
          absurd-length=N      after N messages send a header declaring a 4 GiB packet
          stall=N              after N messages go silent, keep the socket open
          tiny-writes          cut every write into 1–3 byte pieces
          no-auth-reply        never answer the auth packet
          no-heartbeat-reply   never answer heartbeats
          every=K              apply only to rooms whose id is a multiple of K
          first=C              apply only to each room's first C connections (then serve normally)
        """

    static func parseFault(_ text: String) throws(UsageError) -> FaultOption {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func count(_ value: Substring?, _ what: String, minimum: Int) throws(UsageError) -> Int {
            guard let value else { throw UsageError("--fault \(what) needs =N") }
            guard let number = Int(value), number >= minimum else {
                throw UsageError("--fault \(what) needs an integer ≥ \(minimum), got \(quoted(String(value)))")
            }
            return number
        }
        let head = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(head[0])
        let argument = head.count > 1 ? head[1] : nil
        let kind: FaultOption.Kind
        switch name {
        case "close-after": kind = .closeAfter(try count(argument, name, minimum: 1))
        case "garbage-header":
            kind = .garbageHeader(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "absurd-length":
            kind = .absurdLength(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "stall": kind = .stall(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "tiny-writes", "no-auth-reply", "no-heartbeat-reply":
            if argument != nil { throw UsageError("--fault \(name) takes no =N") }
            kind = name == "tiny-writes" ? .tinyWrites : name == "no-auth-reply" ? .noAuthReply : .noHeartbeatReply
        default:
            throw UsageError(
                "--fault: unknown fault \(quoted(name)); faults are close-after=N, garbage-header, "
                    + "absurd-length, stall, tiny-writes, no-auth-reply, no-heartbeat-reply")
        }
        var fault = FaultOption(kind: kind)
        for modifier in parts.dropFirst() {
            let pair = modifier.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            switch pair[0] {
            case "every": fault.every = try count(pair.count > 1 ? pair[1] : nil, "every", minimum: 1)
            case "first": fault.first = try count(pair.count > 1 ? pair[1] : nil, "first", minimum: 1)
            default: throw UsageError("--fault: unknown modifier \(quoted(modifier)) (every=K or first=C)")
            }
        }
        return fault
    }
}
