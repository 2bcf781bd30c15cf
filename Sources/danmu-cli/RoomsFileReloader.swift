import DanmuClient
import EventLoop
import Glibc
import Synchronization

/// SIGHUPs received so far. Touched from the signal handler: an atomic store only (async-signal-safe), and
/// initialised before the handler is installed so the handler never runs a lazy global initialiser.
private let hangUps = Atomic<Int>(0)

/// `listen --rooms-file FILE`: re-reads FILE on SIGHUP; rooms added to it are added to the collector, rooms
/// taken out of it are removed (rooms given on the command line stay), each change one line on stderr.
/// A file that cannot be read or parsed changes nothing and says why.
///
/// The handler only counts; a thread of its own notices the count within 200 ms and does the work, so the
/// reading, parsing and logging never run inside the signal handler. The file's room set is confined to
/// that thread.
final class RoomsFileReloader: Sendable {
    let path: String
    let collector: DanmuCollector
    private let initial: [Int64]
    private let stopped = StopLatch()
    private let thread = Lock<PosixThread?>(nil)

    init(path: String, rooms: [Int64], collector: DanmuCollector) {
        self.path = path
        self.initial = rooms
        self.collector = collector
    }

    /// The reloader `listen` runs for `options` (nil without --rooms-file).
    static func start(_ options: ListenOptions, collector: DanmuCollector) -> RoomsFileReloader? {
        guard let path = options.roomsFile else { return nil }
        let reloader = RoomsFileReloader(path: path, rooms: options.fileRooms, collector: collector)
        _ = hangUps.load(ordering: .relaxed)
        signal(SIGHUP) { _ in hangUps.add(1, ordering: .relaxed) }
        let started = PosixThread.startOrExit(name: "danmu-sighup") { [reloader] in reloader.run() }
        reloader.thread.withLock { $0 = started }
        return reloader
    }

    /// Stops watching and joins the thread (SIGHUP is then ignored, not fatal).
    func stop() {
        stopped.trigger("stop")
        thread.withLock { running -> PosixThread? in
            defer { running = nil }
            return running
        }?.join()
        signal(SIGHUP, SIG_IGN)
    }

    private func run() {
        var current = Set(initial)
        var seen = hangUps.load(ordering: .relaxed)
        while stopped.triggeredReason == nil {
            _ = stopped.wait(untilMonotonic: SystemClock.monotonicNanoseconds() + 200_000_000)
            let count = hangUps.load(ordering: .relaxed)
            guard count != seen else { continue }
            seen = count
            let rooms: [Int64]
            do throws(UsageError) {
                rooms = try ListenOptions.readRoomsFile(path)
            } catch {
                log("SIGHUP: \(error.message); rooms unchanged")
                continue
            }
            let next = Set(rooms)
            let added = next.subtracting(current).sorted()
            let removed = current.subtracting(next).sorted()
            for room in added { collector.add(room: room) }
            for room in removed { collector.remove(room: room) }
            log(
                "SIGHUP: re-read \(path): \(next.count) rooms, added \(Self.list(added)), removed \(Self.list(removed))"
            )
            current = next
        }
    }

    private func log(_ line: String) { StandardError.print("danmu-cli: rooms-file: " + line) }

    private static func list(_ rooms: [Int64]) -> String {
        rooms.isEmpty ? "none" : rooms.map(String.init).joined(separator: ",")
    }
}
