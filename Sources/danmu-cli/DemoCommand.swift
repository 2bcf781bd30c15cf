import DanmuClient
import Glibc

/// `danmu-cli demo`: the simulator in-process plus `listen` on a few of its rooms, in text, for ~10 s.
enum DemoCommand: CLICommand {
    static let name = "demo"
    static let summary = "watch simulated rooms for ~10 s (in-process simulator, no network needed)"
    static let usage = ["[options]"]
    static let options: [OptionSpec] = [
        OptionSpec(name: "duration", valueName: "SECONDS", help: "how long to run (default 10)"),
        OptionSpec(name: "rooms", valueName: "N", help: "how many rooms to watch (default 3)"),
        OptionSpec(name: "format", valueName: "text|jsonl", help: "output format (default text)"),
    ]
    static let details = "Stops early on Ctrl-C. Ends with a summary of what was received."

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        guard arguments.positionals.isEmpty else {
            throw UsageError("demo takes no positional arguments, got \(arguments.positionals[0])")
        }
        let duration = try arguments.seconds("duration") ?? 10
        let rooms = try arguments.int("rooms", in: 1...1000) ?? 3
        let format = try arguments.choice("format", ["text", "jsonl"]).flatMap(OutputFormat.init(rawValue:)) ?? .text
        return demo(duration: duration, rooms: rooms, format: format)
    }

    static func demo(duration: Double, rooms: Int, format: OutputFormat) -> Int32 {
        // A modest rate so a person can read along; compression follows the client's protover (brotli).
        var simulate = SimulateOptions(listen: HostPort(host: "127.0.0.1", port: 0))
        simulate.rooms = max(rooms, 10)
        simulate.rate = 2
        let server: SimulatorServer
        switch SimulatorServer.start(simulate) {
        case .success(let running): server = running
        case .failure(let error):
            StandardError.print("danmu-cli demo: \(error.message)")
            return 1
        }
        var options = ListenOptions()
        options.rooms = Array(1...Int64(rooms))
        options.server = HostPort(host: "127.0.0.1", port: server.address.port)
        options.format = format
        options.duration = duration
        // Connection bookkeeping (auth replies, heartbeat popularity) is noise for a person watching.
        options.kinds = Set(EventKind.allCases).subtracting([.authReply, .popularity])
        let roomList = options.rooms.map(String.init).joined(separator: ", ")
        let runner = ListenRunner(
            options: options,
            onStarted: {
                StandardError.print(
                    "danmu-cli demo: in-process simulator on \(server.address); listening to rooms \(roomList) "
                        + "for \(Int(duration.rounded())) s (Ctrl-C stops)")
            })
        let (status, received) = runner.runWithTotals()
        let statistics = server.stop()
        StandardError.print(
            "danmu-cli demo: received \(received.danmaku) danmaku (\(received.events) events in all) from \(rooms) rooms; "
                + "the simulator sent \(statistics.danmakuSent) danmaku. Next: `danmu-cli listen --help`.")
        return status
    }
}
