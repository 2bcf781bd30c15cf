import DanmuSimulator
import EventLoop
import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import DanmuClient

/// Records every simulated danmaku per room and checks, as it goes, that each room's sequence numbers
/// (from `id_str` = `sim-<room>-<seq>-<ns>`) arrive once and in order, and that no room is ever handled by
/// two threads at once.
final class SequenceRecorder: DanmuHandler {
    struct Room {
        var seqs: [UInt64] = []
        var outOfOrder = 0
        var inFlight = 0
        var overlaps = 0
    }

    private let rooms = Lock<[Int64: Room]>([:])
    private let otherEvents = Atomic<Int>(0)
    /// Called inside the handler (outside the lock) before recording: lets a test block a room.
    let pause: (@Sendable (Int64, UInt64) -> Void)?

    init(pause: (@Sendable (Int64, UInt64) -> Void)? = nil) {
        self.pause = pause
    }

    func danmaku(room: Int64, _ danmaku: Danmaku) {
        guard let idStr = danmaku.idStr, let id = SimulatedMessageID(idStr: idStr) else {
            otherEvents.add(1, ordering: .relaxed)
            return
        }
        rooms.withLock { rooms in
            rooms[room, default: Room()].inFlight += 1
            if rooms[room]!.inFlight > 1 { rooms[room]!.overlaps += 1 }
        }
        pause?(room, id.seq)
        rooms.withLock { rooms in
            var record = rooms[room]!
            if id.room != room || (record.seqs.last.map { id.seq <= $0 } ?? false) { record.outOfOrder += 1 }
            record.seqs.append(id.seq)
            record.inFlight -= 1
            rooms[room] = record
        }
    }

    func other(_ event: RoomEvent) {
        otherEvents.add(1, ordering: .relaxed)
    }

    var snapshot: [Int64: Room] { rooms.withLock { $0 } }
    func seqs(_ room: Int64) -> [UInt64] { rooms.withLock { $0[room]?.seqs ?? [] } }
    func count(_ room: Int64) -> Int { rooms.withLock { $0[room]?.seqs.count ?? 0 } }
    var total: Int { rooms.withLock { $0.values.reduce(0) { $0 + $1.seqs.count } } }
    var violations: Int { rooms.withLock { $0.values.reduce(0) { $0 + $1.outOfOrder + $1.overlaps } } }
}

/// A simulator on its own reactor (its own IO thread), stopped by `close()`.
final class SimulatorHarness {
    let reactor: Reactor
    let simulator: Simulator
    let address: SocketAddress

    init(_ configuration: Simulator.Configuration) throws {
        reactor = try Reactor()
        try reactor.start()
        simulator = Simulator(reactor: reactor, configuration: configuration)
        address = try simulator.start()
    }

    var server: ServerAddress {
        .init(host: "127.0.0.1", port: address.port)
    }

    func close() {
        simulator.stop()
        reactor.shutdown()
    }
}

/// Collector settings for loopback tests: fast heartbeats and backoff so faults heal in seconds. The auth and
/// watchdog timeouts stay a few seconds long because the test machine may be heavily loaded (2 cores shared by
/// many builds): a timeout that fires while the answer sits unread in the socket would turn load into failures.
func testCollectorConfiguration(server: ServerAddress, workers: Int = 2)
    -> DanmuCollector.Configuration
{
    var configuration = DanmuCollector.Configuration(server: server, workers: workers)
    configuration.timing.heartbeatInterval = .milliseconds(300)
    configuration.timing.watchdogTimeout = .seconds(4 * sanitizerSlowdown)
    configuration.timing.authTimeout = .seconds(3 * sanitizerSlowdown)
    configuration.timing.connectTimeout = .seconds(10 * sanitizerSlowdown)
    configuration.timing.backoff = BackoffPolicy(
        initial: .milliseconds(50), maximum: .milliseconds(400), jitter: 0.5, healthyAfter: .seconds(5))
    return configuration
}

/// A collector on `configuration` with `handler` set, started, `rooms` added: how most loopback tests begin. The
/// caller shuts it down (a failed start shuts it down here).
func startCollector(
    _ configuration: DanmuCollector.Configuration, handler: any DanmuHandler, rooms: some Sequence<Int64>
) throws -> DanmuCollector {
    let collector = try DanmuCollector(configuration: configuration)
    collector.setHandler(handler)
    do {
        try collector.start()
    } catch {
        collector.shutdown()
        throw error
    }
    collector.add(rooms: rooms)
    return collector
}

/// 5 under ThreadSanitizer (found at run time: its runtime exports `__tsan_init`), else 1. TSan makes the
/// loopback tests (client and simulator in one process) several times slower; timeouts stretch by this much.
let sanitizerSlowdown: Int = dlsym(nil, "__tsan_init") != nil ? 5 : 1

/// Polls `condition` every 10 ms until it holds or `timeout` (× `sanitizerSlowdown`) passes; returns whether it
/// held.
@discardableResult
func waitUntil(timeout: Duration = .seconds(20), _ condition: () -> Bool) -> Bool {
    pollUntil(timeout: timeout * sanitizerSlowdown, interval: .milliseconds(10), condition)
}

/// Open sockets, epoll, eventfd and timerfd descriptors of this process: what the library creates. Pipes and
/// files are left out because ThreadSanitizer opens pipes of its own (to its symbolizer) while reporting.
func openFileDescriptorCount() -> Int {
    openFileDescriptorTargets().count { $0.contains("socket:") || $0.contains("anon_inode:") }
}

/// The distinct last errors of the rooms that had any, for failure messages.
func errorSummary(_ statistics: CollectorStatistics) -> String {
    var counts: [String: Int] = [:]
    for room in statistics.rooms { if let error = room.lastError { counts["\(error)", default: 0] += 1 } }
    return counts.map { "\($0.key) ×\($0.value)" }.sorted().joined(separator: "; ")
}

/// Only danmaku, so every op-5 message carries a sequence number.
let danmakuOnly = MessageMix(weights: [.danmaku: 1])

final class CollectorHarnessTests: XCTestCase {
    func testFileDescriptorCounterSeesNewDescriptors() {
        let before = openFileDescriptorCount()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertEqual(openFileDescriptorCount(), before + 1)
        close(fd)
        XCTAssertEqual(openFileDescriptorCount(), before)
    }

    func testSequenceRecorderFlagsReorderAndDuplicates() {
        let recorder = SequenceRecorder()
        func feed(_ seq: UInt64) {
            var danmaku = Danmaku()
            danmaku.idStr = SimulatedMessageID(room: 5, seq: seq, sentAtNs: 1).description
            recorder.danmaku(room: 5, danmaku)
        }
        feed(1)
        feed(2)
        XCTAssertEqual(recorder.violations, 0)
        feed(2)
        XCTAssertEqual(recorder.violations, 1)
        feed(1)
        XCTAssertEqual(recorder.violations, 2)
        XCTAssertEqual(recorder.seqs(5), [1, 2, 2, 1])
    }
}
