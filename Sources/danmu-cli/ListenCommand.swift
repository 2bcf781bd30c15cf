import Glibc

/// `danmu-cli listen ROOM...`: collect events from rooms until Ctrl-C, SIGTERM or --duration.
enum ListenCommand: CLICommand {
    static let name = "listen"
    static let summary = "collect events from live rooms and print them (text or JSON Lines)"
    static let usage = ["ROOM... [options]", "--rooms-file FILE [options]"]
    static let options = ListenOptions.specs
    static let details = """
        Rooms come from the arguments and/or --rooms-file. Without --server each room is resolved on the live
        site (getDanmuInfo) and joined over TCP; with --server HOST:PORT every room connects there directly.

        Output: text when stdout is a terminal, JSON Lines otherwise (and always with --output). On stderr: a
        live status line when stderr is a terminal, each kind of warning once, and with --summary one JSON line
        of totals at exit. SIGINT/SIGTERM stop reading, flush everything received and exit 0; a second SIGINT
        exits at once (status 130).

        With --sink (repeatable) events go to each sink instead of standard output (and still to --output if
        given): jsonl:PATH, sqlite:PATH (docs/sqlite.md) or redis://[user:pass@]HOST[:PORT][/DB][?stream=KEY&
        room_stream=PREFIX&maxlen=N&publish=CHANNEL]. Each sink batches, retries with backoff and keeps a
        backlog file when it is down (--spool-dir); the backlog is replayed, in order, first on the next run.
        --filter, --dedupe and --anonymize-key-file run, in that order, before the sinks (docs/pipeline.md).

        Masked names: without a login the server treats you as a guest (since 2023-06-30): after a few minutes
        danmaku arrive with uid 0 and names like x*** ("masked" in the output), and some messages are left out.
        Logging in fixes it: put the browser's Cookie header with SESSDATA=… in a file and pass --cookie-file
        FILE (or DANMU_COOKIE); the uid is then read from the cookie. See docs/cli.md and docs/protocol.md §7.
        """

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        let options = try ListenOptions.from(arguments, stdoutIsTerminal: Posix.isTerminal(STDOUT_FILENO))
        var opened: PipelineOptions.Opened?
        if options.pipeline.isActive {
            // Opened here, before the collector, so a bad path or a missing libsqlite3 is exit 2 at start.
            opened = try options.pipeline.open(kinds: options.kinds, wrapSink: options.cluster?.fence.wrap) { message in
                StandardError.print("danmu-cli listen: warning: \(message)")
            }
        }
        return ListenRunner(options: options, pipeline: opened).run()
    }
}
