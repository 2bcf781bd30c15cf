import DanmuCluster
import DanmuPipeline
import EventLoop
import Glibc

/// `danmu-cli rooms add|remove|list --cluster redis://… [ID...]`: edits or prints a cluster's room set.
enum RoomsCommand: CLICommand {
    static let name = "rooms"
    static let summary = "edit or print the room set of a cluster (listen --cluster) in Redis"
    static let usage = ["add|remove ID... --cluster redis://HOST[:PORT][/DB]", "list [--owners] --cluster redis://…"]
    static let options: [OptionSpec] = [
        ClusterOptions.urlSpec,
        OptionSpec(name: "owners", help: "list: also print each room's lease holder (node id, or -)"),
    ]
    static let details = """
        add and remove change the set {danmu}:rooms and bump {danmu}:rooms:version; running nodes poll that key
        every third of their lease TTL and start or stop rooms within about one period. list prints one room id
        per line (ascending); with --owners, "ID<TAB>OWNER". See docs/cluster.md.
        """

    static func run(_ arguments: ParsedArguments) throws(UsageError) -> Int32 {
        guard let action = arguments.positionals.first else {
            throw UsageError("missing action: add, remove or list")
        }
        guard ["add", "remove", "list"].contains(action) else {
            throw UsageError("unknown action \(quoted(action)): add, remove or list")
        }
        guard let cluster = try ClusterOptions.from(arguments) else {
            throw UsageError("--cluster redis://HOST[:PORT][/DB] is required")
        }
        var rooms: [Int64] = []
        for word in arguments.positionals.dropFirst() {
            rooms.append(try ListenOptions.roomID(word, origin: "room id"))
        }
        if action == "list" {
            guard rooms.isEmpty else { throw UsageError("list takes no room ids") }
        } else {
            guard !rooms.isEmpty else { throw UsageError("\(action) needs at least one room id") }
            guard !arguments.has("owners") else { throw UsageError("--owners applies to list only") }
        }
        let reactor: Reactor
        do throws(SystemError) {
            reactor = try Reactor()
            try reactor.start()
        } catch {
            StandardError.print("danmu-cli rooms: cannot start the reactor: \(error)")
            return 1
        }
        let client = RedisCommandClient(url: cluster.url, reactor: reactor)
        defer {
            client.close()
            reactor.shutdown()
        }
        let set = ClusterRoomSet(client: client)
        do throws(ClusterError) {
            switch action {
            case "add":
                let added = try set.add(rooms)
                StandardError.print("danmu-cli rooms: added \(added) room(s), \(rooms.count - added) already there")
            case "remove":
                let removed = try set.remove(rooms)
                StandardError.print("danmu-cli rooms: removed \(removed) room(s), \(rooms.count - removed) not there")
            default:
                let all = try set.list()
                var text = ""
                if arguments.has("owners") {
                    let owners = try set.owners(of: all)
                    for room in all { text += "\(room)\t\((owners[room] ?? nil) ?? "-")\n" }
                } else {
                    for room in all { text += "\(room)\n" }
                }
                _ = Posix.writeAll(STDOUT_FILENO, text)
            }
        } catch {
            StandardError.print("danmu-cli rooms: \(error.description)")
            return 1
        }
        return 0
    }
}
