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
    static let details = """
        faults: close-after=N, garbage-header, absurd-length, tiny-writes, no-auth-reply, no-heartbeat-reply, stall
        """

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

    /// A fault as typed on the command line.
    enum FaultOption: Equatable {
        case closeAfter(Int)
        case garbageHeader, absurdLength, tinyWrites, noAuthReply, noHeartbeatReply, stall
    }

    static let faultNames = [
        "close-after=N", "garbage-header", "absurd-length", "tiny-writes", "no-auth-reply", "no-heartbeat-reply", "stall",
    ]

    static func parseFault(_ text: String) throws(UsageError) -> FaultOption {
        switch text {
        case "garbage-header": return .garbageHeader
        case "absurd-length": return .absurdLength
        case "tiny-writes": return .tinyWrites
        case "no-auth-reply": return .noAuthReply
        case "no-heartbeat-reply": return .noHeartbeatReply
        case "stall": return .stall
        default:
            if text.hasPrefix("close-after=") {
                let number = text.dropFirst("close-after=".count)
                guard let count = Int(number), count > 0 else {
                    throw UsageError("--fault close-after=N needs a positive N, got \(quoted(String(number)))")
                }
                return .closeAfter(count)
            }
            throw UsageError("--fault must be one of \(faultNames.joined(separator: ", ")); got \(quoted(text))")
        }
    }
}
