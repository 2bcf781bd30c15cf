import Glibc

/// `danmu-cli decode [FILE|-]`: decode a captured TCP byte stream into events.
enum DecodeCommand: CLICommand {
    static let name = "decode"
    static let summary = "decode a captured raw TCP byte stream of packets into events"
    static let usage = ["[FILE|-] [options]"]
    static let options: [OptionSpec] = [
        OptionSpec(name: "format", valueName: "text|jsonl", help: "output format (default: text on a terminal, jsonl otherwise)"),
        OptionSpec(name: "room", valueName: "ID", help: "room id written into each event (default 0: unknown)"),
        OptionSpec(name: "events", valueName: "KINDS", help: "only these event kinds, comma-separated"),
    ]
    static let details = """
        Reads FILE (or standard input when FILE is - or missing) as the bytes a server sent on one TCP
        connection: 16-byte-header packets back to back, compressed batches (zlib ver 2, brotli ver 3) included.
        A damaged stream stops with an error naming the byte offset of the bad packet (exit 1), after printing
        every event decoded before it.
        """

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        guard arguments.positionals.count <= 1 else {
            throw UsageError("decode takes at most one FILE, got \(arguments.positionals.count)")
        }
        let path = arguments.positionals.first ?? "-"
        let format = try arguments.choice("format", ["text", "jsonl"]).flatMap(OutputFormat.init(rawValue:))
            ?? (Posix.isTerminal(STDOUT_FILENO) ? .text : .jsonl)
        var room: Int64 = 0
        if let text = arguments.string("room") {
            guard let value = Int64(text), value >= 0 else { throw UsageError("--room must be a non-negative integer, got \(quoted(text))") }
            room = value
        }
        let kinds = try arguments.string("events").map { (text) throws(UsageError) in try EventKinds.parse(text) }
        return decode(path: path, format: format, room: room, kinds: kinds)
    }

    static func decode(path: String, format: OutputFormat, room: Int64, kinds: Set<String>?) -> Int32 {
        StandardError.print("danmu-cli decode: not available in this build yet")
        return 1
    }
}
