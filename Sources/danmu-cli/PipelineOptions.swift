import DanmuClient
import DanmuPipeline
import EventLoop
import Glibc

/// `listen`'s pipeline options: `--sink` (repeatable), `--filter` (repeatable), `--anonymize-key-file`,
/// `--dedupe`, `--spool-dir`. Parsed with the other options (a bad spec is exit 2); `open()` opens every sink
/// before the collector starts, so an unopenable path or a missing libsqlite3 is also exit 2, at start.
struct PipelineOptions {
    enum SinkSpec: Equatable {
        case jsonl(String)
        case sqlite(String)
        case redis(RedisURL)
    }

    var sinks: [SinkSpec] = []
    var filter = FilterStage()
    var hasFilter = false
    var anonymizeKeyFile: String?
    var dedupe = false
    var spoolDirectory: String?

    static let specs: [OptionSpec] = [
        OptionSpec(
            name: "sink", valueName: "jsonl:PATH|sqlite:PATH|redis://…",
            help: "also write events there (repeatable; each has its own batching, retry and backlog)"),
        OptionSpec(
            name: "filter", valueName: "kind=K,…|room=R,…|uid=U,…|text=S",
            help: "keep only matching events (repeatable; all must match; text= is a substring)"),
        OptionSpec(
            name: "anonymize-key-file", valueName: "FILE",
            help: "replace uids and names with a keyed hash (SipHash-2-4, key: FILE's first bytes, ≥ 16)"),
        OptionSpec(name: "dedupe", help: "drop repeated events (id_str, …) within a window of 4096 per room"),
        OptionSpec(
            name: "spool-dir", valueName: "DIR",
            help: "where sinks keep their backlog files (default: PATH.spool beside a file sink; . for redis)"),
    ]

    var isActive: Bool { !sinks.isEmpty }

    static func from(_ arguments: ParsedArguments) throws(UsageError) -> PipelineOptions {
        var options = PipelineOptions()
        for spec in arguments.all("sink") {
            if spec.hasPrefix("jsonl:"), spec.count > 6 {
                options.sinks.append(.jsonl(String(spec.dropFirst(6))))
            } else if spec.hasPrefix("sqlite:"), spec.count > 7 {
                options.sinks.append(.sqlite(String(spec.dropFirst(7))))
            } else if spec.hasPrefix("redis://") {
                do throws(PipelineError) {
                    options.sinks.append(.redis(try RedisURL(parsing: spec)))
                } catch {
                    throw UsageError("--sink: \(error.description)")
                }
            } else {
                throw UsageError(
                    "--sink must be jsonl:PATH, sqlite:PATH or redis://HOST[:PORT][/DB][?…], got \(quoted(spec))")
            }
        }
        for expression in arguments.all("filter") {
            try options.addFilter(expression)
        }
        options.anonymizeKeyFile = arguments.string("anonymize-key-file")
        options.dedupe = arguments.has("dedupe")
        options.spoolDirectory = arguments.string("spool-dir")
        if !options.isActive && (options.hasFilter || options.anonymizeKeyFile != nil || options.dedupe) {
            throw UsageError(
                "--filter, --anonymize-key-file and --dedupe act on --sink outputs: give at least one --sink")
        }
        return options
    }

    private mutating func addFilter(_ expression: String) throws(UsageError) {
        guard let equals = expression.firstIndex(of: "=") else {
            throw UsageError("--filter must be kind=…, room=…, uid=… or text=…, got \(quoted(expression))")
        }
        let key = expression[..<equals]
        let value = String(expression[expression.index(after: equals)...])
        let items = value.split(separator: ",").map(String.init)
        hasFilter = true
        switch key {
        case "kind":
            filter.kinds = (filter.kinds ?? Set(EventKind.allCases)).intersection(try EventKinds.parse(value))
        case "room":
            var rooms = Set<Int64>()
            for item in items { rooms.insert(try ListenOptions.roomID(item, origin: "--filter room")) }
            filter.rooms = filter.rooms.map { $0.intersection(rooms) } ?? rooms
        case "uid":
            var uids = Set<Int64>()
            for item in items {
                guard let uid = Int64(item) else {
                    throw UsageError("--filter uid must be integers, got \(quoted(item))")
                }
                uids.insert(uid)
            }
            filter.uids = filter.uids.map { $0.intersection(uids) } ?? uids
        case "text":
            guard !value.isEmpty else { throw UsageError("--filter text= needs a substring") }
            filter.textContains.append(value)
        default:
            throw UsageError("--filter key must be kind, room, uid or text, got \(quoted(String(key)))")
        }
    }

    /// The opened pipeline: its stages, its sinks' runners, and the reactor that Redis sinks use (if any).
    struct Opened {
        var stages: [any PipelineStage]
        var runners: [SinkRunner]
        var reactor: Reactor?
    }

    /// `wrapSink`: put around each sink before its runner starts (--cluster's lease fence).
    func open(
        kinds: Set<EventKind>?, wrapSink: ((any Sink) -> any Sink)? = nil,
        onWarning: @escaping @Sendable (String) -> Void
    ) throws(UsageError) -> Opened {
        var stages: [any PipelineStage] = []
        var filter = self.filter
        if let kinds { filter.kinds = filter.kinds.map { $0.intersection(kinds) } ?? kinds }
        if hasFilter || kinds != nil { stages.append(filter) }
        if dedupe { stages.append(DedupeStage()) }
        if let anonymizeKeyFile {
            guard case .success(let key) = Posix.readFile(anonymizeKeyFile) else {
                throw UsageError("--anonymize-key-file: cannot read \(anonymizeKeyFile)")
            }
            do throws(PipelineError) {
                stages.append(try AnonymizeStage(key: key))
            } catch {
                throw UsageError("--anonymize-key-file \(anonymizeKeyFile): \(error.description)")
            }
        }
        var reactor: Reactor?
        var runners: [SinkRunner] = []
        do throws(PipelineError) {
            for spec in sinks {
                var configuration = SinkConfiguration()
                configuration.onWarning = onWarning
                let sink: any Sink
                switch spec {
                case .jsonl(let path):
                    sink = try JSONLinesSink(path: path)
                    configuration.spoolPath = spoolPath(defaultPath: path + ".spool", name: path)
                case .sqlite(let path):
                    sink = try SQLiteSink(path: path)
                    configuration.spoolPath = spoolPath(defaultPath: path + ".spool", name: path)
                case .redis(let url):
                    if reactor == nil {
                        do throws(SystemError) {
                            let loop = try Reactor()
                            try loop.start()
                            reactor = loop
                        } catch {
                            throw .unavailable("cannot start the Redis reactor: \(error)")
                        }
                    }
                    let name = "danmu-redis-\(url.host)-\(url.port)-\(url.database).spool"
                    let spool = spoolPath(defaultPath: name, name: name)
                    configuration.spoolPath = spool
                    // Each writer of a stream keeps its own in-doubt token, named so a restart finds it again.
                    var named = url
                    if named.writer == nil { named.writer = RedisSink.writerIdentity(spoolPath: spool) }
                    sink = RedisSink(url: named, reactor: reactor!)
                }
                runners.append(try SinkRunner(sink: wrapSink?(sink) ?? sink, configuration: configuration))
            }
        } catch {
            for runner in runners { runner.close() }
            reactor?.shutdown()
            throw UsageError("--sink: \(error.description)")
        }
        return Opened(stages: stages, runners: runners, reactor: reactor)
    }

    private func spoolPath(defaultPath: String, name: String) -> String {
        guard let spoolDirectory else { return defaultPath }
        let base = name.split(separator: "/").last.map(String.init) ?? name
        return spoolDirectory + "/" + base + (base.hasSuffix(".spool") ? "" : ".spool")
    }
}
