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
        StandardError.print("danmu-cli demo: not available in this build yet")
        return 1
    }
}
