import Glibc

/// One subcommand of danmu-cli: its name, help text, options, and what it does.
protocol CLICommand {
    static var name: String { get }
    /// One line for the tool's command list.
    static var summary: String { get }
    /// The usage line(s) after "usage: ".
    static var usage: [String] { get }
    /// Paragraphs printed by `--help` after the options.
    static var details: String { get }
    static var options: [OptionSpec] { get }
    /// Runs with parsed arguments; returns the exit status. Throws UsageError for bad arguments (exit 2).
    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32
}

/// Top-level dispatch, help and version.
enum CommandLineTool {
    static let version = "0.1.0"
    static var commands: [any CLICommand.Type] {
        [
            ListenCommand.self, DecodeCommand.self, SimulateCommand.self, DemoCommand.self, BenchOutputCommand.self,
            RoomsCommand.self,
        ]
    }

    static var toolUsage: String {
        """
        usage: danmu-cli <command> [options]
               danmu-cli --help | --version | help <command>
        """
    }

    static var toolHelp: String {
        let width = commands.map { $0.name.count }.max() ?? 0
        let list = commands.map { command in
            "  " + command.name + String(repeating: " ", count: width - command.name.count + 3) + command.summary
        }.joined(separator: "\n")
        return """
            danmu-cli \(version) — collect Bilibili live chat (danmaku) from many rooms at once.

            \(toolUsage)

            commands:
            \(list)

            Run `danmu-cli <command> --help` for a command's options.
            First try: `danmu-cli demo` (built-in simulator, no network needed).
            Exit status: 0 success, 1 runtime failure, 2 bad arguments, 130 second Ctrl-C.
            """
    }

    static func help(for command: any CLICommand.Type) -> String {
        var text = "usage: " + command.usage.map { "danmu-cli \(command.name) \($0)" }.joined(separator: "\n       ")
        text += "\n\n" + command.summary + "\n\noptions:\n" + OptionSpec.helpLines(command.options)
        if !command.details.isEmpty { text += "\n\n" + command.details }
        return text
    }

    static func shortUsage(for command: any CLICommand.Type) -> String {
        "usage: " + command.usage.map { "danmu-cli \(command.name) \($0)" }.joined(separator: "\n       ")
            + "\nRun `danmu-cli \(command.name) --help` for all options."
    }

    /// Parses and runs; returns the exit status.
    static func main(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            StandardError.print(
                "danmu-cli: missing command\n\n" + toolUsage + "\nRun `danmu-cli --help` for the commands.")
            return 2
        }
        switch first {
        case "-h", "--help":
            printOut(toolHelp)
            return 0
        case "--version", "-V", "version":
            printOut("danmu-cli \(version)")
            return 0
        case "help":
            guard arguments.count > 1 else {
                printOut(toolHelp)
                return 0
            }
            guard let command = find(arguments[1]) else {
                StandardError.print("danmu-cli: unknown command \(quoted(arguments[1]))\n\n" + toolUsage)
                return 2
            }
            printOut(help(for: command))
            return 0
        default:
            break
        }
        guard let command = find(first) else {
            let what = first.hasPrefix("-") ? "unknown option \(first)" : "unknown command \(quoted(first))"
            StandardError.print("danmu-cli: \(what)\n\n" + toolUsage + "\nRun `danmu-cli --help` for the commands.")
            return 2
        }
        do throws(UsageError) {
            let parsed = try ArgumentParser.parse(Array(arguments.dropFirst()), specs: command.options)
            if parsed.has("help") {
                printOut(help(for: command))
                return 0
            }
            return try command.run(parsed)
        } catch {
            StandardError.print("danmu-cli \(command.name): \(error.message)\n\n" + shortUsage(for: command))
            return 2
        }
    }

    private static func find(_ name: String) -> (any CLICommand.Type)? {
        commands.first { $0.name == name }
    }

    /// Help and version go to stdout so they can be piped into a pager.
    static func printOut(_ text: String) {
        _ = Posix.writeAll(STDOUT_FILENO, text + "\n")
    }
}
