import CDanmuSystem
import Glibc
import Synchronization

/// A single-threaded epoll reactor: one IO thread runs every socket, timer and submitted task.
///
/// Lifecycle: `init` (idle) → `start()` (starting, then running on its own pthread) → `shutdown()` (shutting down:
/// runs the tasks already accepted, delivers `didClose(.closedLocally)` to every open connection, closes every fd it
/// owns) → closed. Everything except `execute`, `executeAndWait`, `shutdown`, `isInLoop` and `now` is loop-confined:
/// call it from a callback or wrap it in `execute { }` (it traps when called from another thread).
///
/// How it works: level-triggered epoll with a flat registration table indexed by slot; each registration's epoll
/// token is `generation << 32 | slot`, so an event that was read for a connection closed earlier in the same turn
/// can never reach the connection that reused the slot or the fd. Reads go to ONE shared receive buffer, at most
/// `maxReadsPerEvent` per socket per turn. One timerfd drives an indexed min-heap of timers; one eventfd wakes the
/// loop for cross-thread submissions (written once per batch).
public final class Reactor: @unchecked Sendable {
    /// Tunables. The defaults suit thousands of mostly idle connections.
    public struct Configuration: Sendable {
        /// Size of the ONE shared receive buffer (bytes).
        public var receiveBufferSize = 65_536
        /// Reads per readable socket per turn before the loop moves on (fairness).
        public var maxReadsPerEvent = 4
        /// Submitted tasks run per turn before IO gets its turn again (submissions cannot starve IO).
        public var maxSubmissionsPerTurn = 4_096
        /// epoll events fetched per `epoll_wait`.
        public var maxEventsPerWait = 1_024
        /// Connections accepted per listener per turn.
        public var maxAcceptsPerEvent = 64
        /// How long a listener stops accepting after EMFILE/ENFILE/ENOBUFS (level-triggered epoll would spin).
        public var acceptBackoff: Duration = .milliseconds(100)
        /// Raise the RLIMIT_NOFILE soft limit to the hard limit in `init`.
        public var raiseFileLimit = true

        public init() {}
    }

    enum Lifecycle: Sendable, Equatable {
        case idle, starting, running, shuttingDown, closed
    }

    /// State shared with other threads. Guarded by `shared` (a Lock).
    struct SharedState {
        var lifecycle: Lifecycle = .idle
        /// Tasks from `execute`, in submission order.
        var tasks: [@Sendable () -> Void] = []
        /// An eventfd write is outstanding: later submissions need not write again.
        var wakePending = false
    }

    static let eventFDToken: UInt64 = 0xFFFF_FFFF
    static let timerFDToken: UInt64 = 0xFFFF_FFFE

    public let configuration: Configuration

    // MARK: Shared between threads
    let shared = Lock(SharedState())
    /// pthread_t of the IO thread (0 until it runs). Atomic: read by `isInLoop` from any thread.
    let loopThread = Atomic<UInt>(0)
    /// Posted once when the loop has closed everything; off-loop `shutdown()` callers wait on it.
    let closedSignal = Semaphore()

    // MARK: Immutable after init
    /// The epoll instance; its calls, and the socket calls of the IO path, go through `system`.
    let selector: Selector
    /// The kernel seam (`SystemCalls.live` unless a test scripts it).
    let system: SystemCalls
    let eventFD: Int32
    let timerFD: Int32

    // MARK: Loop-confined (IO thread only; before `start` and after the loop ends: the owner thread)
    var table: [Registration] = []
    var freeHead: Int32 = -1
    var openRegistrations = 0
    var timers = TimerQueue<() -> Void>()
    /// The deadline the timerfd is armed for (rounded up to 1 ms), nil when disarmed or already fired.
    var armedDeadline: UInt64?
    let receiveBuffer: UnsafeMutableRawBufferPointer
    let events: UnsafeMutableBufferPointer<epoll_event>
    let iovecs: UnsafeMutableBufferPointer<iovec>
    /// Tasks taken from `shared.tasks` and not run yet (the bounded drain leaves the rest for the next turn).
    var runnable: [@Sendable () -> Void] = []
    var runnableIndex = 0
    var stopRequested = false
    /// False once shutdown begins: connect/listen then throw `.shutdown`.
    var acceptingWork = true
    /// Loop statistics, for tests and benchmarks.
    var counters = Counters()

    struct Counters {
        var turns = 0
        var staleEvents = 0
        /// When the current turn's `epoll_wait` returned (monotonic ns): the start of a read's latency inside us.
        var turnStartedAt: UInt64 = 0
    }
    /// eventfd writes made by `execute`/`shutdown` (any thread).
    let eventfdWrites = Atomic<Int>(0)

    /// Seams for the race regression tests; nil in production. Set before `start`, never changed after.
    struct TestHooks {
        /// Runs in `shutdown()` (off the loop) just before the eventfd is written.
        var beforeShutdownWake: (@Sendable () -> Void)?
        /// Runs in `execute` just before it writes the eventfd for an accepted task.
        var beforeExecuteWake: (@Sendable () -> Void)?
        /// Runs in `start()` instead of nothing just before the thread is created; a throw stands for a failed
        /// `pthread_create`.
        var beforeSpawn: (@Sendable () throws(SystemError) -> Void)?
    }
    nonisolated(unsafe) var testHooks = TestHooks()

    /// Creates the epoll, eventfd and timerfd (all close-on-exec) and raises RLIMIT_NOFILE. Nothing runs until `start`.
    public convenience init(configuration: Configuration = .init()) throws(SystemError) {
        try self.init(configuration: configuration, system: .live)
    }

    /// A reactor whose IO path calls the kernel through `system` (tests script it; see `SystemCalls`).
    init(configuration: Configuration, system: SystemCalls) throws(SystemError) {
        precondition(configuration.receiveBufferSize > 0 && configuration.maxReadsPerEvent > 0)
        precondition(configuration.maxSubmissionsPerTurn > 0 && configuration.maxEventsPerWait > 0)
        self.configuration = configuration
        if configuration.raiseFileLimit { Posix.raiseFileLimit() }
        let selector = try Selector(system: system)
        var eventFD: Int32 = -1
        var timerFD: Int32 = -1
        do {
            eventFD = try EventFd.eventfd()
            timerFD = try TimerFd.timerfd_create()
            try selector.register(eventFD, token: Reactor.eventFDToken, interest: .readable)
            // Level-triggered on purpose: the handler reads the 8-byte expiry count, which clears it; an
            // edge-triggered timerfd loses an expiry that lands while the previous one is being handled.
            try selector.register(timerFD, token: Reactor.timerFDToken, interest: .readable)
        } catch {
            if timerFD >= 0 { Posix.close(timerFD) }
            if eventFD >= 0 { Posix.close(eventFD) }
            selector.close()
            throw error
        }
        self.selector = selector
        self.system = system
        self.eventFD = eventFD
        self.timerFD = timerFD
        receiveBuffer = .allocate(byteCount: configuration.receiveBufferSize, alignment: 16)
        events = .allocate(capacity: configuration.maxEventsPerWait)
        iovecs = .allocate(capacity: WriteQueue.maxIovecs)
    }

    deinit {
        let lifecycle = shared.withLock { $0.lifecycle }
        precondition(
            lifecycle == .idle || lifecycle == .closed, "Reactor released while running: call shutdown() first")
        if lifecycle == .idle { closeEverything() }
        receiveBuffer.deallocate()
        events.deallocate()
        iovecs.deallocate()
    }

    // MARK: Threads

    /// Whether the calling thread is this reactor's IO thread.
    public var isInLoop: Bool {
        let loop = loopThread.load(ordering: .acquiring)
        return loop != 0 && pthread_equal(pthread_t(loop), pthread_self()) != 0
    }

    /// Traps unless called on the IO thread.
    @inline(__always)
    public func assertInLoop(_ function: StaticString = #function) {
        precondition(isInLoop, "Reactor.\(function) must run on the reactor's IO thread (use execute { })")
    }

    /// The latest deadline a timer can have (Int64.max nanoseconds of CLOCK_MONOTONIC, ~292 years): later ones are
    /// clamped to it, so deadline arithmetic never wraps and the timerfd's `time_t` always holds it.
    public static let distantFuture = UInt64(Int64.max)

    /// CLOCK_MONOTONIC in nanoseconds: the clock of every timer. Any thread.
    public var now: UInt64 { Posix.monotonicNanoseconds() }

    /// Starts the IO thread and returns. Throws `.shutdown` if the reactor was already started or shut down.
    public func start() throws(SystemError) {
        let ok = shared.withLock { state in
            guard state.lifecycle == .idle else { return false }
            state.lifecycle = .starting
            return true
        }
        guard ok else { throw SystemError(.shutdown, operation: "Reactor.start") }
        // The thread keeps the reactor alive until the loop has closed everything.
        let thread: PosixThread
        do {
            try testHooks.beforeSpawn?()
            thread = try PosixThread.spawn(name: "danmu-io") { [self] in
                loopThread.store(UInt(pthread_self()), ordering: .releasing)
                run()
            }
        } catch {
            // No thread. `execute` refuses work in `.starting`, so no accepted task is lost here. A `shutdown()`
            // that ran meanwhile moved us to `.shuttingDown` and is waiting for `closedSignal`: finish its job
            // instead of overwriting its state with `.idle` (it would wait forever: testFailedStartDuringShutdown).
            let shutDownMeanwhile = shared.withLock { state in
                if state.lifecycle == .starting {
                    state.lifecycle = .idle
                    return false
                }
                return true
            }
            if shutDownMeanwhile { finishWithoutLoop() }
            throw error
        }
        thread.detach()
        // Accept work only now that a thread will run it; a shutdown() that came first stays in charge.
        shared.withLock { state in
            if state.lifecycle == .starting { state.lifecycle = .running }
        }
    }

    /// Stops the loop: tasks already accepted by `execute` run, every open connection gets
    /// `didClose(.closedLocally)`, then every fd the reactor owns is closed. Idempotent, any thread.
    /// Off the IO thread it returns once everything is closed; on the IO thread it returns at once and the loop
    /// stops after the current turn.
    public func shutdown() {
        let previous = shared.withLock { state in
            let previous = state.lifecycle
            switch previous {
            case .idle:
                state.lifecycle = .closed
            case .starting, .running:
                state.lifecycle = .shuttingDown
                // The eventfd is written while the lock is held: the loop closes it only under this lock, after
                // setting `.closed`, so this write can never hit a closed (or reused) descriptor. Written after
                // releasing the lock, it raced the loop, which may already have seen `.shuttingDown` in a turn
                // woken by an earlier task and closed everything (testShutdownRightAfterATaskNeverWritesAClosedEventfd).
                if !isInLoop {
                    testHooks.beforeShutdownWake?()
                    signalWakeUp(&state)
                }
            case .shuttingDown, .closed:
                break
            }
            return previous
        }
        switch previous {
        case .idle:
            finishWithoutLoop()
            return
        case .starting, .running:
            if isInLoop { stopRequested = true }
        case .shuttingDown, .closed:
            break
        }
        if !isInLoop {
            closedSignal.wait()
            closedSignal.signal()  // let any other waiter through too
        }
    }

    /// Closes everything on the calling thread when no IO thread exists (never started, or its start failed).
    private func finishWithoutLoop() {
        shared.withLock { $0.lifecycle = .closed }
        closeEverything()
        closedSignal.signal()
    }

    // MARK: Cross-thread submission

    /// Runs `task` on the IO thread soon, in submission order. Any thread.
    ///
    /// The first submission of a batch writes the eventfd once; later ones see the wake-up pending and only append.
    /// - Returns: false (and drops the task) before `start` has returned and once shutdown has begun.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        shared.withLock { state in
            guard state.lifecycle == .running else { return false }
            state.tasks.append(task)
            // Under the lock for the same reason as in `shutdown()`: the eventfd must still be open. Written after
            // the lock, a shutdown could run, the loop take this task and close everything before the write
            // (testExecuteRacingShutdownNeverWritesAClosedEventfd).
            if !state.wakePending {
                testHooks.beforeExecuteWake?()
                signalWakeUp(&state)
            }
            return true
        }
    }

    /// Runs `body` on the IO thread and waits for its result (any thread; on the IO thread it runs inline).
    /// - Returns: nil, without running `body`, when the reactor is not running (not started, or shutting down).
    public func executeAndWait<Result: Sendable>(_ body: @escaping @Sendable () -> Result) -> Result? {
        if isInLoop { return body() }
        let result = Lock<Result?>(nil)
        let done = Semaphore()
        let accepted = execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        guard accepted else { return nil }
        done.wait()
        return result.withLock { $0 }
    }

    /// Writes the eventfd once and marks the wake-up pending. Caller holds `shared` with the lifecycle at
    /// `.running` or `.shuttingDown` (so the loop has not closed the eventfd yet).
    private func signalWakeUp(_ state: inout SharedState) {
        assert(state.lifecycle == .running || state.lifecycle == .shuttingDown || state.lifecycle == .starting)
        state.wakePending = true
        eventfdWrites.wrappingAdd(1, ordering: .relaxed)
        // EAGAIN only if the counter is near 2^64 - 1 (never: the loop drains it); anything else traps in the helper.
        try? EventFd.signal(eventFD)
    }

    /// Runs at most `maxSubmissionsPerTurn` submitted tasks; returns true when some are left for the next turn.
    func runSubmissions() -> Bool {
        if runnableIndex == runnable.count {
            runnable.removeAll(keepingCapacity: true)
            runnableIndex = 0
            shared.withLock { state in
                swap(&runnable, &state.tasks)
                state.wakePending = false
            }
        }
        let end = min(runnable.count, runnableIndex + configuration.maxSubmissionsPerTurn)
        while runnableIndex < end {
            let task = runnable[runnableIndex]
            runnableIndex += 1
            task()
        }
        if runnableIndex < runnable.count { return true }
        // The eventfd was drained this turn, maybe after a producer's wake-up for tasks we have not taken yet:
        // look once more, or those tasks would wait for the next unrelated wake-up (a lost wake-up).
        return shared.withLock { !$0.tasks.isEmpty }
    }

    // MARK: The loop

    private func run() {
        var moreSubmissions = false
        while !stopRequested {
            rearmTimerIfNeeded()
            let count: Int
            do {
                count = try selector.select(into: events, timeout: moreSubmissions ? 0 : -1)
            } catch {
                preconditionFailure("epoll_wait failed: \(error)")
            }
            counters.turns += 1
            counters.turnStartedAt = Posix.monotonicNanoseconds()
            var woken = false
            var timersDue = false
            for index in 0..<count {
                let readiness = Selector.readiness(events, at: index)
                switch readiness.token {
                case Reactor.eventFDToken:
                    _ = try? EventFd.drain(eventFD)
                    woken = true
                case Reactor.timerFDToken:
                    timersDue = true
                default:
                    handleEvent(readiness)
                }
            }
            // Timers run after this turn's IO (redis `ae` order): bytes that were already waiting in a socket are
            // read before a timeout judges that connection. Fired first, an auth timeout could close a connection whose
            // AUTH_REPLY and first batch were already waiting (testTimerDueInTheSameTurnRunsAfterWaitingBytesAreRead).
            if timersDue { fireTimers() }
            if woken || moreSubmissions { moreSubmissions = runSubmissions() }
            // shutdown() from another thread sets the state, then writes the eventfd.
            if woken && shared.withLock({ $0.lifecycle == .shuttingDown }) { break }
        }
        performShutdown()
    }

    private func performShutdown() {
        shared.withLock { $0.lifecycle = .shuttingDown }
        // Tasks accepted before shutdown began still run (they may write or close); new ones are refused.
        while runSubmissions() || shared.withLock({ !$0.tasks.isEmpty }) {}
        acceptingWork = false
        closeEverything()
        loopThread.store(0, ordering: .releasing)
        closedSignal.signal()
    }

    /// Closes every registration (connections first get `didClose(.closedLocally)`), drops timers, closes own fds.
    private func closeEverything() {
        acceptingWork = false
        for slot in table.indices {
            switch table[slot].kind {
            case .connecting, .connected: closeConnection(slot: slot, reason: .closedLocally)
            case .listener: closeListener(slot: slot)
            case .free: break
            }
        }
        timers.removeAll()
        Posix.close(timerFD)
        selector.close()
        // `.closed` and the eventfd's close under one lock: every eventfd write happens under this lock while the
        // lifecycle is not `.closed`, so none can follow the close.
        shared.withLock { state in
            state.lifecycle = .closed
            state.tasks.removeAll()
            Posix.close(eventFD)
        }
    }

    // MARK: Registration table

    func allocateSlot() -> Int {
        openRegistrations += 1
        if freeHead >= 0 {
            let slot = Int(freeHead)
            freeHead = table[slot].nextFree
            return slot
        }
        precondition(table.count < Int(UInt32.max - 16), "registration table full")
        table.append(Registration())
        return table.count - 1
    }

    /// Frees `slot` (the generation moves on) and returns its old contents.
    func releaseSlot(_ slot: Int) -> Registration {
        var entry = Registration()
        swap(&entry, &table[slot])
        table[slot].generation = entry.generation &+ 1
        table[slot].nextFree = freeHead
        freeHead = Int32(slot)
        openRegistrations -= 1
        return entry
    }

    /// Number of open connections and listeners (loop thread).
    public var registrationCount: Int {
        assertInLoop()
        return openRegistrations
    }

    private func handleEvent(_ readiness: Readiness) {
        let slot = Int(readiness.token & 0xFFFF_FFFF)
        let generation = UInt32(readiness.token >> 32)
        guard slot < table.count, table[slot].generation == generation, table[slot].kind != .free else {
            // The registration this event was read for has been closed earlier in this turn.
            counters.staleEvents += 1
            return
        }
        switch table[slot].kind {
        case .listener: acceptConnections(slot: slot)
        case .connecting: finishConnect(slot: slot)
        case .connected: handleConnectionEvent(slot: slot, readiness)
        case .free: break
        }
    }

    /// Brings the epoll registration of `slot` in line with what it wants; false if epoll_ctl failed.
    @discardableResult
    func updateInterest(slot: Int) -> Bool {
        let entry = table[slot]
        let wanted: Interest?
        switch entry.kind {
        case .connecting:
            wanted = .writable
        case .connected:
            wanted = .wanting(readable: !entry.isPaused, writable: !entry.writes.isEmpty)
        case .listener:
            wanted = entry.isPaused ? nil : .readable
        case .free:
            return true
        }
        guard wanted != entry.registered else { return true }
        let token = Registration.token(slot: slot, generation: entry.generation)
        do {
            switch (entry.registered, wanted) {
            case (nil, let wanted?): try selector.register(entry.fd, token: token, interest: wanted)
            case (_?, let wanted?): try selector.reregister(entry.fd, token: token, interest: wanted)
            // Deregistered, not an empty mask: epoll always reports HUP/ERR, which would spin a paused socket.
            case (_?, nil): try selector.deregister(entry.fd)
            case (nil, nil): break
            }
        } catch {
            if entry.kind == .connecting || entry.kind == .connected {
                closeConnection(slot: slot, reason: .error(error))
            }
            return false
        }
        table[slot].registered = wanted
        return true
    }
}
