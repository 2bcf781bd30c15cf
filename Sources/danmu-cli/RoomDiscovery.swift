import DanmuClient
import EventLoop
import Glibc

/// `listen --top N [--area ID] [--refresh DURATION] [--offline-grace DURATION]`, validated.
struct DiscoveryOptions: Equatable {
    /// How many of the most popular live rooms to follow.
    var top: Int
    /// Parent area (分区) of the room list; 0: every area.
    var parentAreaID: Int64 = 0
    /// Seconds between two room-list fetches.
    var refreshSeconds: Double = 300
    /// A followed room missing from the list this long is removed.
    var offlineGraceSeconds: Double = 600

    static let specs: [OptionSpec] = [
        OptionSpec(
            name: "top", valueName: "N", help: "follow the N most popular live rooms of the site's room list"),
        OptionSpec(name: "area", valueName: "ID", help: "with --top: only rooms of this parent area"),
        OptionSpec(
            name: "refresh", valueName: "DURATION", help: "with --top: fetch the room list this often (default 5m)"),
        OptionSpec(
            name: "offline-grace", valueName: "DURATION",
            help: "with --top: drop a room once it has been off the list this long (default 10m)"),
    ]

    /// Parses the discovery options; nil without --top (and then the others are refused).
    static func from(_ arguments: ParsedArguments, server: HostPort?) throws(UsageError) -> DiscoveryOptions? {
        guard let top = try arguments.int("top", in: 1...10_000) else {
            for name in ["area", "refresh", "offline-grace"] where arguments.string(name) != nil {
                throw UsageError("--\(name) applies to --top N only")
            }
            return nil
        }
        guard server == nil else {
            throw UsageError("--top takes rooms from the site's room list, which --server skips: use --api instead")
        }
        var options = DiscoveryOptions(top: top)
        if let area = arguments.string("area") {
            guard let id = Int64(area), id >= 0 else {
                throw UsageError("--area must be a non-negative area id, got \(quoted(area))")
            }
            options.parentAreaID = id
        }
        options.refreshSeconds = try duration(arguments.string("refresh"), "refresh") ?? options.refreshSeconds
        options.offlineGraceSeconds =
            try duration(arguments.string("offline-grace"), "offline-grace") ?? options.offlineGraceSeconds
        return options
    }

    /// `90`, `90s`, `5m`, `1h` → seconds (positive).
    static func duration(_ text: String?, _ name: String) throws(UsageError) -> Double? {
        guard let text else { return nil }
        var number = Substring(text)
        var unit = 1.0
        switch text.last {
        case "s": number = number.dropLast()
        case "m": (number, unit) = (number.dropLast(), 60)
        case "h": (number, unit) = (number.dropLast(), 3600)
        default: break
        }
        guard let value = Double(number), value.isFinite, value > 0 else {
            throw UsageError("--\(name) must be a duration such as 90, 90s, 5m or 1h, got \(quoted(text))")
        }
        return value * unit
    }
}

/// Follows the site's most popular live rooms: fetches the room list (through the resolver, so on the same
/// pacer as every other request) every `refreshSeconds`; rooms that appear are added to the collector, rooms
/// missing from the list for `offlineGraceSeconds` are removed; each change is one line on stderr.
///
/// Runs on a thread of its own (the fetches block); the watched table is confined to that thread.
final class RoomDiscovery: Sendable {
    let options: DiscoveryOptions
    let resolver: RoomResolver
    let collector: DanmuCollector
    private let stopped = StopLatch()
    /// The refresh thread, joined by `stop`.
    private let thread = Lock<PosixThread?>(nil)

    init(options: DiscoveryOptions, resolver: RoomResolver, collector: DanmuCollector) {
        self.options = options
        self.resolver = resolver
        self.collector = collector
    }

    /// The discovery `listen` runs for `options` (nil without --top): on the live-site resolver, whose pacer
    /// every room's resolving shares.
    static func start(
        _ options: DiscoveryOptions?, resolver: (any RoomEndpointResolving)?, collector: DanmuCollector
    ) -> RoomDiscovery? {
        guard let options, let live = resolver as? LiveSiteResolver else { return nil }
        let discovery = RoomDiscovery(options: options, resolver: live.resolver, collector: collector)
        discovery.start()
        return discovery
    }

    /// Starts the refresh thread; the first fetch happens at once.
    func start() {
        let started = PosixThread.startOrExit(name: "danmu-discovery") { [self] in run() }
        thread.withLock { $0 = started }
    }

    /// Stops refreshing and waits for a fetch under way to end (bounded by the resolver's timeouts).
    func stop() {
        stopped.trigger("stop")
        thread.withLock { running -> PosixThread? in
            defer { running = nil }
            return running
        }?.join()
    }

    private func run() {
        // Room → when it was last on the list (monotonic ns). Only this thread touches it.
        var watched: [Int64: UInt64] = [:]
        let grace = UInt64(options.offlineGraceSeconds * 1e9)
        while stopped.triggeredReason == nil {
            let now = SystemClock.monotonicNanoseconds()
            do throws(ResolveError) {
                let listed = try resolver.liveRooms(top: options.top, parentAreaID: options.parentAreaID)
                for room in listed {
                    if watched[room.roomID] == nil {
                        collector.add(room: room.roomID)
                        log("room \(room.roomID) is live (online \(room.online)): added")
                    }
                    watched[room.roomID] = now
                }
                for (room, seen) in watched.sorted(by: { $0.key < $1.key }) where now - seen >= grace {
                    watched[room] = nil
                    collector.remove(room: room)
                    log("room \(room) off the list for \(Self.format(Double(now - seen) / 1e9)): removed")
                }
            } catch {
                // Keep every watched room: a failed fetch says nothing about which rooms are live.
                log(
                    "room list fetch failed (\(error)); keeping the \(watched.count) rooms, next try in "
                        + Self.format(options.refreshSeconds))
            }
            let next = SystemClock.monotonicNanoseconds() + UInt64(options.refreshSeconds * 1e9)
            _ = stopped.wait(untilMonotonic: next)
        }
    }

    private func log(_ line: String) { StandardError.print("danmu-cli: discovery: " + line) }

    private static func format(_ seconds: Double) -> String {
        seconds >= 60 ? "\(Int(seconds / 60))m\(Int(seconds) % 60)s" : "\(Int(seconds.rounded()))s"
    }
}
