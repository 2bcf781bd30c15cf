import DanmuClient
import DanmuPipeline
import EventLoop
import Glibc

/// Where a cluster node starts and stops the rooms it holds (a `DanmuCollector`, or a test double).
public protocol ClusterRoomHost: Sendable {
    func startRooms(_ rooms: [Int64])
    func stopRooms(_ rooms: [Int64])
}

extension DanmuCollector: ClusterRoomHost {
    public func startRooms(_ rooms: [Int64]) { add(rooms: rooms) }
    public func stopRooms(_ rooms: [Int64]) { for room in rooms { remove(room: room) } }
}

/// One process of a cluster that shares a room set in Redis: it registers a heartbeat, holds about its fair
/// share of the rooms with per-room leases, hands rooms over when over its share or stopping, and takes over
/// rooms whose leases expired. See docs/cluster.md.
///
/// ```swift
/// let node = try ClusterNode(configuration: .init(leaseTTL: .seconds(10)), client: coordination, host: collector)
/// // The dedupe gets a client (connection) of its own, so its round trips never delay a renewal.
/// let pipeline = Pipeline(stages: [node.gate, SharedDedupeStage(client: dedupeClient)], sinks: [streamSink])
/// collector.setHandler(pipeline)
/// try node.start()
/// …
/// node.stop()   // hands every room over (others start them first), then releases
/// ```
///
/// Threads: one coordinator thread (a `PosixThread`) makes every Redis call with the client's blocking face,
/// once per period (a third of the TTL) — one pipelined round trip for heartbeat, version poll and the renewal
/// of every lease (one script call for all of them), plus a claim or hand-over call when the share changed.
/// The lease table is shared with the pipeline's `gate` (worker threads) under `shared`'s lock.
public final class ClusterNode: Sendable {
    public struct Configuration: Sendable {
        public var keys: ClusterKeys
        /// host-pid-random by default.
        public var nodeID: String
        /// The lease and heartbeat TTL (≥ 1 s); leases are renewed every third of it.
        public var leaseTTL: Duration
        /// Never hold more rooms than this (nil: no cap).
        public var maximumRooms: Int?
        /// After another node claimed a room we handed over, keep collecting it this long, so the new owner is
        /// connected before we stop (the shared dedupe drops the doubles).
        public var handoverOverlap: Duration
        /// `stop()` gives up waiting for takers after this long and releases what is left.
        public var handoverTimeout: Duration

        public init(
            keys: ClusterKeys = try! ClusterKeys(), nodeID: String = ClusterNode.makeNodeID(),
            leaseTTL: Duration = .seconds(10), maximumRooms: Int? = nil, handoverOverlap: Duration = .seconds(2),
            handoverTimeout: Duration? = nil
        ) {
            self.keys = keys
            self.nodeID = nodeID
            self.leaseTTL = leaseTTL
            self.maximumRooms = maximumRooms
            self.handoverOverlap = handoverOverlap
            self.handoverTimeout = handoverTimeout ?? leaseTTL * 2
        }
    }

    /// A snapshot for status lines and summaries.
    public struct Status: Sendable, Equatable {
        public var nodeID: String
        public var liveNodes = 0
        public var roomsInSet = 0
        public var target = 0
        public var held = 0
        public var claims = 0
        public var handovers = 0
        /// Rooms stopped because their lease was not confirmed in time or was another node's.
        public var leasesLost = 0
        public var redisErrors = 0
        public var lastError: String?
    }

    struct Shared: Sendable {
        var table: LeaseTable
        var status: Status
        /// Per room, the wall-clock time (Unix ns, as `RoomEvent.receivedAt`) just before this node last started
        /// it under a new lease. The gate drops events read before it: after a pause, the old connection's
        /// buffered bytes may still be in the worker queue when the node has already claimed the room again.
        var tenureStart: [Int64: Int64] = [:]
        /// Per room, the last tenure that ended by a lost lease, as `receivedAt` bounds (`end` is `.max` until the
        /// node claims the room again): the sink fence (`LeaseFence`) drops what is left of it.
        var lostTenure: [Int64: (start: Int64, end: Int64)] = [:]
        /// Records the sink fence dropped, per room.
        var fenced: [Int64: Int] = [:]
        /// Rooms taken over after another node lost them, waiting for their first event (the last sequence
        /// number written before, from the shared dedupe's mark): `SharedDedupeStage` turns them into `gaps`.
        var pendingGaps: [Int64: Int64] = [:]
        var gaps: [Int64: TakeoverGap] = [:]

        /// Marks the current tenure of `rooms` lost (the lease was not confirmed in time, or is another node's).
        mutating func lost(_ rooms: [Int64]) {
            for room in rooms { lostTenure[room] = (tenureStart[room] ?? .min, .max) }
        }

        /// True when the sink may write a record of `room` read at `receivedAt`, at monotonic `now`: not when it
        /// belongs to a tenure that was lost, or to the current one whose lease ran out (not yet noticed by the
        /// coordinator: the process was paused). A room handed over gracefully keeps its records.
        func admits(room: Int64, receivedAt: Int64, now: UInt64) -> Bool {
            if let lost = lostTenure[room], receivedAt >= lost.start, receivedAt < lost.end { return false }
            guard let entry = table.entries[room], receivedAt >= tenureStart[room] ?? .min else { return true }
            return entry.state == .leaving || now < entry.validUntil
        }
    }

    /// A room taken over from a node that lost it, and what the stream misses of it.
    public struct TakeoverGap: Sendable, Equatable {
        public var room: Int64
        /// The last sequence number the previous holder passed, and the first this node passed.
        public var lastBefore: Int64
        public var firstAfter: Int64
        /// Messages sent to the room while nobody wrote it: `firstAfter - lastBefore - 1`.
        public var missed: Int64 { max(0, firstAfter - lastBefore - 1) }

        public init(room: Int64, lastBefore: Int64, firstAfter: Int64) {
            self.room = room
            self.lastBefore = lastBefore
            self.firstAfter = firstAfter
        }
    }

    public let configuration: Configuration
    /// The pipeline stage that passes a room's events only while this node's lease on it is valid.
    public let gate: LeaseGateStage
    let client: RedisCommandClient
    let host: any ClusterRoomHost
    let shared: Lock<Shared>
    /// true once `stop()` was asked; the coordinator waits on it between periods.
    private let stopping = ConditionLock(false)
    private let thread = Lock<PosixThread?>(nil)
    /// Called with one line for each notable change (rooms lost, Redis unreachable); any thread.
    private let onLog: @Sendable (String) -> Void

    public init(
        configuration: Configuration, client: RedisCommandClient, host: any ClusterRoomHost,
        onLog: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ClusterError) {
        guard configuration.leaseTTL >= .seconds(1) else {
            throw .invalidConfiguration("the lease TTL must be at least 1 s, got \(configuration.leaseTTL)")
        }
        if let maximum = configuration.maximumRooms, maximum < 1 {
            throw .invalidConfiguration("the per-node maximum must be at least 1 room, got \(maximum)")
        }
        self.configuration = configuration
        self.client = client
        self.host = host
        self.onLog = onLog
        let table = LeaseTable(ttl: configuration.leaseTTL.nanoseconds)
        shared = Lock(Shared(table: table, status: Status(nodeID: configuration.nodeID)))
        gate = LeaseGateStage(shared: shared)
    }

    /// `hostname-pid-random`: unique per process, and readable in `rooms list --owners`.
    public static func makeNodeID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host.isEmpty ? "node" : host)-\(getpid())-\(random)"
    }

    public var status: Status { shared.withLock { $0.status } }

    /// The rooms this node took over after another node lost them, with the messages missed there (only rooms
    /// whose events carry a sequence number: see `SharedDedupeStage`), sorted by room.
    public var gaps: [TakeoverGap] { shared.withLock { $0.gaps.values.sorted { $0.room < $1.room } } }

    /// Records the sink fence dropped (a tenure lost before the sink wrote them), per room.
    public var fencedRecords: [Int64: Int] { shared.withLock { $0.fenced } }

    /// True while the node may write `room`'s events.
    public func holds(_ room: Int64) -> Bool {
        shared.withLock { $0.table.isValid(room, now: SystemClock.monotonicNanoseconds()) }
    }

    /// Starts the coordinator thread: it registers at once and claims from its second period on (so nodes
    /// started together see each other before they split the rooms).
    public func start() throws(ClusterError) {
        try thread.withLock { (current: inout PosixThread?) throws(ClusterError) in
            guard current == nil else { return }
            do throws(SystemError) {
                current = try PosixThread.spawn(name: "danmu-cluster") { [self] in ClusterCoordinator(node: self).run()
                }
            } catch {
                throw .invalidConfiguration("cannot start the coordinator thread: \(error)")
            }
        }
    }

    /// Graceful stop: leaves the node set, hands every room over, keeps collecting each until another node
    /// claimed it plus the overlap (or `handoverTimeout`), releases the rest and stops them. Blocks until done.
    public func stop() {
        stopping.withLock { $0 = true }
        stopping.broadcast()
        let joined = thread.withLock { current -> PosixThread? in
            defer { current = nil }
            return current
        }
        joined?.join()
    }

    /// Waits until `deadline` (monotonic ns) or a stop request; true when stopping.
    func waitForStop(until deadline: UInt64) -> Bool {
        stopping.withLock(waitingUntil: { $0 }, deadline: deadline) { stop, _ in stop }
    }

    func log(_ line: String) { onLog(line) }
}
