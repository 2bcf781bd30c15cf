import EventLoop

/// The rooms a simulator serves. AUTH for any other room id is refused (no reply, close).
public enum RoomSet: Sendable, Equatable {
    case ids(Set<Int64>)
    case range(ClosedRange<Int64>)
    /// Every room id is known (handy for ad-hoc demos).
    case any

    public func contains(_ room: Int64) -> Bool {
        switch self {
        case .ids(let set): set.contains(room)
        case .range(let range): range.contains(room)
        case .any: true
        }
    }
}

/// What the simulator appends to a heartbeat reply, outside the declared packet length (docs/protocol.md §8).
public enum HeartbeatEcho: Sendable, Equatable {
    /// Nothing: declared length = bytes sent.
    case none
    /// The client's heartbeat body (empty for a well-behaved TCP client), as the live server does.
    case clientBody
    /// Always the 15 bytes `[object Object]` a browser would have sent: stresses the client's resync.
    case objectObject
}

/// Which compression a client gets.
public enum CompressionPolicy: Sendable, Equatable {
    /// Like the live server: protover 1/2 → zlib, 3 → brotli; 0 → plain (see `Compression(protover:)`).
    case followProtover
    /// The same for every client regardless of its protover.
    case always(Compression)
}

extension Simulator {
    public struct Configuration: Sendable {
        /// Where to listen (loopback, port 0 = pick one; `start()` returns the real address).
        public var listen: SocketAddress
        public var rooms: RoomSet
        /// op-5 messages per second per authenticated connection (fractional is fine, e.g. 0.2).
        /// 0 = flood: write as fast as the socket drains, up to `messageLimitPerRoom`.
        /// A tick that comes late (a starved loop) writes at most eight ticks' worth (at least one batch) per
        /// connection or room and owes the rest to the following ticks, so a loaded machine sends slower, never
        /// in one long turn that leaves the other rooms and every heartbeat unanswered.
        public var ratePerRoom: Double
        /// Stop sending to a room after this many messages in total (across its connections); nil = no limit.
        public var messageLimitPerRoom: Int?
        public var compression: CompressionPolicy
        /// At most this many messages per outer packet (for plain: per write).
        public var batchSize: Int
        public var mix: MessageMix
        public var faults: [FaultRule]
        /// When set, AUTH must carry exactly this `key`.
        public var requiredKey: String?
        /// The first packet must be an AUTH within this time (the live server: ~5 s), else close.
        public var authTimeout: Duration
        public var heartbeatEcho: HeartbeatEcho
        /// The u32 in heartbeat replies.
        public var popularity: UInt32
        /// Period of the one send timer (all rooms are served from it in a wheel).
        public var tickInterval: Duration
        /// Delay between the 1–3 byte writes of the `tinyWrites` fault, and pieces written per delay.
        public var tinyWriteInterval: Duration
        public var tinyWriteBurst: Int
        /// A connection with more than this many bytes queued (a slow reader) is skipped by the rate sender:
        /// messages are not generated for it, so sequence numbers stay contiguous.
        public var maxQueuedBytesPerConnection: Int
        /// A ws endpoint (`ws://…/sub`) besides the TCP one; nil: none. Port 0 picks one.
        public var webSocketListen: SocketAddress?
        /// A wss endpoint (`wss://…/sub`); needs `tlsCertificateFile` and `tlsKeyFile`. Port 0 picks one.
        public var secureWebSocketListen: SocketAddress?
        /// PEM certificate chain and private key of the wss endpoint.
        public var tlsCertificateFile: String?
        public var tlsKeyFile: String?
        /// Handshake faults of the ws/wss endpoints, for their first connections (counted over both endpoints
        /// since start): the room is not known before AUTH, so these cannot pick rooms.
        public var handshakeFaults: [HandshakeFaultRule] = []
        /// ws/wss: the TLS handshake and upgrade must be done this long after the accept; `authTimeout` then
        /// counts from the 101.
        public var handshakeTimeout: Duration = .seconds(30)
        /// An authenticated connection that sent no heartbeat (op 2) for this long is closed, as the live server
        /// closes a socket after ~70 s without one (docs/protocol.md §8); nil: never. Checked about every
        /// `min(heartbeatTimeout / 4, 1 s)`. A connection of the `stall` fault is exempt (it keeps its socket).
        public var heartbeatTimeout: Duration? = .seconds(70)
        /// The live site's HTTP API (room_init, nav, finger/spi, getDanmuInfo, room list) on this address; nil:
        /// none. When set, AUTH must carry a token that getDanmuInfo handed out for that room. Port 0 picks one.
        public var httpAPIListen: SocketAddress?
        /// Short ids, live rooms and test switches of the HTTP API.
        public var site = SimulatedSite.Configuration()
        /// One connection per message (default) or every connection of the room (broadcast, as the live
        /// servers do); see `Delivery`. Under `.everyConnection` `ratePerRoom` and `messageLimitPerRoom` count
        /// the messages the room emits, whatever the number of its connections.
        public var delivery: Delivery = .oneConnection
        /// Guests see masked names, as on the live site: a connection whose AUTH has no logged-in uid (`uid` 0)
        /// gets DANMU_MSG with uid 0 and the name cut to its first character and `***` (`孤***`); a connection
        /// with a uid gets the real ones. nil (default): only while the HTTP API is on (`httpAPIListen`), when the
        /// simulator plays the live site; off for the plain protocol tests.
        public var masksGuestNames: Bool?

        public init(
            listen: SocketAddress = .loopback(port: 0),
            rooms: RoomSet = .range(1...100),
            ratePerRoom: Double = 5,
            messageLimitPerRoom: Int? = nil,
            compression: CompressionPolicy = .followProtover,
            batchSize: Int = 10,
            mix: MessageMix = .realistic,
            faults: [FaultRule] = [],
            requiredKey: String? = nil,
            authTimeout: Duration = .seconds(5),
            heartbeatEcho: HeartbeatEcho = .none,
            popularity: UInt32 = 1,
            tickInterval: Duration = .milliseconds(5),
            tinyWriteInterval: Duration = .milliseconds(1),
            tinyWriteBurst: Int = 8,
            maxQueuedBytesPerConnection: Int = 4 << 20
        ) {
            self.listen = listen
            self.rooms = rooms
            self.ratePerRoom = ratePerRoom
            self.messageLimitPerRoom = messageLimitPerRoom
            self.compression = compression
            self.batchSize = batchSize
            self.mix = mix
            self.faults = faults
            self.requiredKey = requiredKey
            self.authTimeout = authTimeout
            self.heartbeatEcho = heartbeatEcho
            self.popularity = popularity
            self.tickInterval = tickInterval
            self.tinyWriteInterval = tinyWriteInterval
            self.tinyWriteBurst = tinyWriteBurst
            self.maxQueuedBytesPerConnection = maxQueuedBytesPerConnection
        }
    }
}

/// A handshake misbehaviour of the ws/wss endpoints for their first `firstConnections` connections.
public struct HandshakeFaultRule: Sendable, Equatable {
    public enum Fault: Sendable, Equatable {
        /// Never answer the upgrade request: the client's handshake timeout must judge it.
        case stallUpgrade
        /// Answer 101 with a wrong Sec-WebSocket-Accept.
        case badAccept
    }

    public var fault: Fault
    public var firstConnections: Int

    public init(_ fault: Fault, firstConnections: Int) {
        self.fault = fault
        self.firstConnections = firstConnections
    }
}

/// The endpoints a started simulator listens on.
public struct SimulatorAddresses: Sendable, Equatable {
    public var tcp: SocketAddress
    public var ws: SocketAddress?
    public var wss: SocketAddress?
    /// The HTTP API (`Configuration.httpAPIListen`), when configured.
    public var httpAPI: SocketAddress? = nil
}
