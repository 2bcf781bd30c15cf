import Glibc

/// `danmu-cli simulate --listen HOST:PORT`: run the Bilibili-compatible simulator as a server.
enum SimulateCommand: CLICommand {
    static let name = "simulate"
    static let summary = "run the built-in Bilibili-compatible server (for tests, demos, benchmarks)"
    static let usage = ["--listen HOST:PORT [options]"]
    static let options: [OptionSpec] = [
        OptionSpec(name: "listen", valueName: "HOST:PORT", help: "address to listen on (port 0: a free port, printed)"),
        OptionSpec(name: "rooms", valueName: "N", help: "accept rooms 1...N (default 1000)"),
        OptionSpec(name: "rate", valueName: "R", help: "messages per second per room (default 5)"),
        OptionSpec(name: "compression", valueName: "none|zlib|brotli", help: "how batches are compressed (default zlib)"),
        OptionSpec(name: "batch", valueName: "N", help: "messages per packet (default 8)"),
        OptionSpec(name: "fault", valueName: "FAULT", help: "inject a fault (repeatable), see below"),
        OptionSpec(name: "duration", valueName: "SECONDS", help: "stop after SECONDS (default: until Ctrl-C / SIGTERM)"),
        OptionSpec(name: "summary", help: "print per-room sent totals as one JSON line on stderr at exit"),
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
        options.rate = try arguments.number("rate", in: 0...1_000_000) ?? options.rate
        options.compression = try arguments.choice("compression", ["none", "zlib", "brotli"]) ?? options.compression
        options.batch = try arguments.int("batch", in: 1...10_000) ?? options.batch
        options.faults = try arguments.all("fault").map { (text) throws(UsageError) in try SimulateOptions.parseFault(text) }
        options.duration = try arguments.seconds("duration")
        options.summary = arguments.has("summary")
        return simulate(options)
    }

    static func simulate(_ options: SimulateOptions) -> Int32 {
        StandardError.print("danmu-cli simulate: not available in this build yet")
        return 1
    }
}

/// Validated `simulate` arguments.
struct SimulateOptions {
    var listen: HostPort
    var rooms = 1000
    var rate = 5.0
    var compression = "zlib"
    var batch = 8
    var faults: [FaultOption] = []
    var duration: Double? = nil
    var summary = false

    /// A fault as typed on the command line: `NAME[=N][,every=K][,first=C]`.
    struct FaultOption: Equatable {
        enum Kind: Equatable {
            case closeAfter(Int), garbageHeader(Int), absurdLength(Int), stall(Int)
            case tinyWrites, noAuthReply, noHeartbeatReply
        }
        var kind: Kind
        /// Only rooms whose id is a multiple of `every` (nil: all rooms).
        var every: Int? = nil
        /// Only each room's first `first` connections (nil: all of them).
        var first: Int? = nil
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
        case "garbage-header": kind = .garbageHeader(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "absurd-length": kind = .absurdLength(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "stall": kind = .stall(try argument.map { (v) throws(UsageError) in try count(v, name, minimum: 0) } ?? 0)
        case "tiny-writes", "no-auth-reply", "no-heartbeat-reply":
            if argument != nil { throw UsageError("--fault \(name) takes no =N") }
            kind = name == "tiny-writes" ? .tinyWrites : name == "no-auth-reply" ? .noAuthReply : .noHeartbeatReply
        default:
            throw UsageError("--fault: unknown fault \(quoted(name)); faults are close-after=N, garbage-header, "
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
