import DanmuClient
import Glibc

/// `danmu-cli decode [FILE|-]`: decode a captured TCP byte stream into events.
enum DecodeCommand: CLICommand {
    static let name = "decode"
    static let summary = "decode a captured raw TCP byte stream of packets into events"
    static let usage = ["[FILE|-] [options]"]
    static let options: [OptionSpec] = [
        OptionSpec(
            name: "format", valueName: "text|jsonl",
            help: "output format (default: text on a terminal, jsonl otherwise)"),
        OptionSpec(name: "room", valueName: "ID", help: "room id written into each event (default 0: unknown)"),
        OptionSpec(name: "events", valueName: "KINDS", help: "only these event kinds, comma-separated"),
    ]
    static let details = """
        Reads FILE (or standard input when FILE is - or missing) as the bytes a server sent on one TCP
        connection: 16-byte-header packets back to back, compressed batches (zlib ver 2, brotli ver 3) included.
        A damaged stream stops with an error naming the byte offset of the bad packet (exit 1), after printing
        every event decoded before it. A capture has no receive times: received_at is 0 on every line.
        Client→server packets (auth, heartbeat) and heartbeat echo bytes are skipped with a note on stderr.
        """

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        guard arguments.positionals.count <= 1 else {
            throw UsageError("decode takes at most one FILE, got \(arguments.positionals.count)")
        }
        let path = arguments.positionals.first ?? "-"
        if path == "-" && Posix.isTerminal(STDIN_FILENO) {
            throw UsageError("decode reads a capture from FILE or from a pipe; standard input is a terminal")
        }
        let format =
            try arguments.choice("format", ["text", "jsonl"]).flatMap(OutputFormat.init(rawValue:))
            ?? (Posix.isTerminal(STDOUT_FILENO) ? .text : .jsonl)
        var room: Int64 = 0
        if let text = arguments.string("room") {
            guard let value = Int64(text), value >= 0 else {
                throw UsageError("--room must be a non-negative integer, got \(quoted(text))")
            }
            room = value
        }
        let kinds = try arguments.string("events").map { (text) throws(UsageError) in try EventKinds.parse(text) }
        return decode(path: path, format: format, room: room, kinds: kinds)
    }

    static func decode(path: String, format: OutputFormat, room: Int64, kinds: Set<EventKind>?) -> Int32 {
        let bytes: [UInt8]
        switch Posix.readFile(path) {
        case .success(let read): bytes = read
        case .failure(let error):
            StandardError.print("danmu-cli decode: \(error.description)")
            return 1
        }
        let sink = OutputSink(destination: OutputDestination(standardOutput: ()))
        let printer = EventPrinter(format: format, kinds: kinds, sink: sink)
        let (frames, framingFailure, echoBytes) = CaptureReader.read(bytes)
        var decoder = MessageDecoder()
        var failure = framingFailure
        var clientPackets: [String: Int] = [:]
        for positioned in frames {
            let header = positioned.frame.header
            switch header.operation {
            case .auth, .heartbeat, .ack:
                // Client→server packets in a capture: nothing to show as events, but say so.
                clientPackets[header.operation.description, default: 0] += 1
                continue
            default:
                break
            }
            let malformedBefore = decoder.statistics.malformedMessages
            let events: [DanmuEvent]
            do throws(ProtocolError) {
                events = try decoder.decode(positioned.frame)
            } catch {
                failure = CaptureReader.Failure(
                    offset: positioned.offset, reason: "\(header.operation) ver \(header.protover): \(error)")
                break
            }
            if decoder.statistics.malformedMessages > malformedBefore, let why = decoder.statistics.lastMalformed {
                StandardError.print(
                    "danmu-cli decode: warning: byte offset \(positioned.offset): skipped a malformed message: \(why)")
            }
            // A capture carries no receive time: received_at is 0 (unknown) so that output is reproducible.
            printer.print(room: room, receivedAt: 0, events: events)
        }
        sink.close()
        if !clientPackets.isEmpty {
            let list = clientPackets.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(
                separator: ", ")
            StandardError.print("danmu-cli decode: skipped client→server packets (no events): \(list)")
        }
        if decoder.statistics.unknownOperations > 0 {
            StandardError.print(
                "danmu-cli decode: skipped \(decoder.statistics.unknownOperations) packets with unknown operations")
        }
        if echoBytes > 0 {
            StandardError.print(
                "danmu-cli decode: note: skipped \(echoBytes) heartbeat echo bytes outside declared lengths")
        }
        if let failure {
            StandardError.print("danmu-cli decode: \(path == "-" ? "standard input" : path): \(failure.description)")
            return 1
        }
        return 0
    }
}
