import EventLoop
import Glibc

extension DanmuCollector {
    /// Everything a collector needs; one instance is shared by all rooms (nothing is copied per room).
    public struct Configuration: Sendable {
        /// Identity sent in AUTH (op 7). Guests (uid 0) get masked names and sampled messages (docs/protocol.md §7).
        public struct Credentials: Sendable, Equatable {
            public var uid: Int64
            public var buvid: String
            /// The AUTH `key` used with a fixed `server`; with a resolver each room's own token is used.
            public var token: String
            public init(uid: Int64 = 0, buvid: String = "", token: String = "") {
                self.uid = uid
                self.buvid = buvid
                self.token = token
            }
        }

        /// Which transport carries the packets (see `Transport`). Default: raw TCP, the cheapest.
        public var transport = Transport.tcp
        /// The HTTP upgrade of ws and wss: path, and the headers a browser sends.
        public var webSocket = WebSocketOptions()
        /// Certificate checking for wss (the system CA store by default).
        public var tls = TLSOptions()
        /// `auto`: after this many consecutive TCP failures before live, a room moves to wss for good.
        public var autoFallbackAfterFailures = 2

        /// Worker threads decoding and calling handlers (default: cores − 1, at least 1).
        public var workers: Int
        /// 3 (brotli batches, what browsers use) or 2 (zlib).
        public var protover: Int = 3
        /// A fixed server (an IPv4 literal or a host name): no resolution, every room connects there with
        /// `credentials.token` as its key; when nil, rooms are resolved with `resolver`. For tests, the simulator,
        /// benchmarks and private relays.
        public var server: ServerAddress?
        public var credentials = Credentials()
        /// Token and host-list source used when `server` is nil (nil: a default `RoomResolver`). Called on the
        /// collector's resolver thread, never on the IO thread.
        public var resolver: (any RoomEndpointResolving)?
        /// Timeouts, heartbeat period, watchdog, backoff, refresh and give-up rules.
        public var timing = RoomTiming()
        /// A room's socket is paused when its queue holds more than this many bytes of frames …
        public var queueHighWatermark = 256 << 10
        /// … and resumed when the workers have brought it below this.
        public var queueLowWatermark = 64 << 10
        /// Bound of all rooms' queued frames together.
        public var globalByteCap = 256 << 20
        /// Events buffered for `makeEventStream()` before every socket is paused (see `RoomEventStream`).
        public var streamHighWatermark = 65_536
        public var streamLowWatermark = 16_384
        /// Largest accepted packet (docs/protocol.md §10).
        public var maxPacketLength = 1 << 20
        /// Local source addresses (IPv4, the port is ignored) the rooms' sockets are bound to before connecting,
        /// for a host with several IPs facing servers that limit connections per source IP. Empty: the kernel
        /// chooses. A room always uses `bindAddress(forRoom:)`, on every reconnect; an address not on this host
        /// fails that room's connects (`connectFailed("bind(…): EADDRNOTAVAIL …")`), counted in its errors.
        public var bindAddresses: [SocketAddress] = []
        /// The reactor's settings (receive buffer size, reads per event …).
        public var reactor = Reactor.Configuration()
        /// A handler call that holds its worker longer than this is reported through `onSlowHandler`.
        public var slowHandlerThreshold: Duration = .seconds(1)
        /// Called once per room, the first time a handler call of that room holds a worker longer than
        /// `slowHandlerThreshold` (the room id and how long so far, in seconds). A blocked handler holds back its
        /// own room and occupies a worker; once every worker is held, every room waits (see `DanmuHandler`).
        /// Runs on the IO thread: keep it short.
        ///
        /// The default, `warnOnStandardError`, writes one line naming the room to standard error: a collector
        /// whose every room silently waits on one blocked handler is the failure this is for, and a user who
        /// never heard of this option is the one who must see it. Set your own closure to route it elsewhere, or
        /// nil to say nothing (no watchdog timer runs then).
        public var onSlowHandler: (@Sendable (_ room: Int64, _ seconds: Double) -> Void)? = Configuration
            .warnOnStandardError
        /// Latency attribution (benchmarks, diagnostics): called once per batch with its stage times and its
        /// events, on the worker, right after the handler returned. Nil (the default): no stage is timed.
        public var onBatchTimings: (@Sendable (BatchTimings, [RoomEvent]) -> Void)?

        /// `onSlowHandler`'s default: one line on standard error, e.g. `danmu: warning: room 7: a handler call has
        /// held a worker for 1250 ms (...)`. One `write(2)`, so lines of several rooms never interleave.
        public static let warnOnStandardError: @Sendable (_ room: Int64, _ seconds: Double) -> Void = {
            room, seconds in
            let line =
                "danmu: warning: room \(room): a handler call has held a worker for \(Int(seconds * 1000)) ms; "
                + "while every worker is held, every room waits (reported once per room; "
                + "Configuration.onSlowHandler)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }

        public init(server: ServerAddress? = nil, workers: Int? = nil) {
            self.server = server
            self.workers = max(1, workers ?? (RoomCPU.count - 1))
        }

        /// The source address of `room`: `bindAddresses[room mod count]` (the room id taken as an unsigned
        /// 64-bit value), nil when `bindAddresses` is empty. Depends on the room id only, so a room keeps its
        /// address across reconnects and restarts, and consecutive ids spread evenly.
        public func bindAddress(forRoom room: Int64) -> SocketAddress? {
            guard !bindAddresses.isEmpty else { return nil }
            return bindAddresses[Int(UInt64(bitPattern: room) % UInt64(bindAddresses.count))]
        }
    }
}

/// Why resolution failed; `permanent` failures (no such room) stop the room instead of retrying.
public struct RoomResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var permanent: Bool
    public init(_ message: String, permanent: Bool = false) {
        self.message = message
        self.permanent = permanent
    }
    public var description: String { message }
}

/// Errors of the collector's own lifecycle.
public enum CollectorError: Error, Sendable, Equatable, CustomStringConvertible {
    case system(SystemError)
    case alreadyStarted
    case shutDown
    case badServer(String)
    /// wss (or auto) was asked for but TLS cannot be set up: libssl missing, CA file unusable.
    case tls(TLSError)

    public var description: String {
        switch self {
        case .system(let error): return "system error: \(error)"
        case .alreadyStarted: return "the collector was already started"
        case .shutDown: return "the collector was shut down"
        case .badServer(let why): return "bad server address: \(why)"
        case .tls(let error): return error.description
        }
    }
}

enum RoomCPU {
    /// Online processors (sysconf), at least 1.
    static var count: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
