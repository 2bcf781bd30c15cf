import EventLoop
import Glibc

/// A resolved room as a session uses it: hosts looked up and ready to connect to, and the AUTH identity.
///
/// Not a `RoomEndpoint`: its servers carry the IPv4 address getaddrinfo gave on the resolver thread (a session
/// connects on the IO thread, which must not block on DNS), servers that did not resolve are dropped, and with a
/// fixed server every room shares one instance (`roomID` nil: each session uses its own), so it is a class.
final class SessionEndpoint: Sendable {
    /// One server: its name (SNI, certificate check, the upgrade's `Host`), its IPv4 address, its three ports.
    struct Host: Sendable, Equatable {
        let server: ServerAddress
        let ipv4: UInt32

        func address(for kind: TransportStack.Kind) -> SocketAddress {
            SocketAddress(ipv4: ipv4, port: server.port(for: kind))
        }
    }

    let roomID: Int64?
    let token: String
    let hosts: [Host]
    let uid: Int64
    let buvid: String

    init(roomID: Int64?, token: String, hosts: [Host], uid: Int64, buvid: String) {
        self.roomID = roomID
        self.token = token
        self.hosts = hosts
        self.uid = uid
        self.buvid = buvid
    }
}

/// Host name → IPv4 address. Literals are parsed directly; names go through getaddrinfo, which blocks:
/// call it only off the IO thread (the resolver thread or the collector's `init`).
enum HostLookup {
    static func address(host: String, port: UInt16) throws(RoomResolutionError) -> SocketAddress {
        if let literal = try? SocketAddress(ipv4: host, port: port) { return literal }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            // Never permanent: even "no such name" may be a resolver outage (EAI_AGAIN looks alike to users).
            throw RoomResolutionError("getaddrinfo(\(host)): \(reason)", permanent: false)
        }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            if current.pointee.ai_family == AF_INET, let raw = current.pointee.ai_addr {
                let ipv4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr)
                }
                return SocketAddress(ipv4: ipv4, port: port)
            }
            node = current.pointee.ai_next
        }
        throw RoomResolutionError("getaddrinfo(\(host)): no IPv4 address", permanent: false)
    }
}

/// The dedicated thread that runs blocking resolution (HTTP via curl, DNS) so the IO thread never waits.
///
/// Jobs run one at a time in FIFO order (the resolver rate-limits its HTTP calls anyway); each result is
/// handed to its completion on this thread, which posts it to the loop.
final class CollectorResolverThread: Sendable {
    typealias Completion = @Sendable (Result<SessionEndpoint, RoomResolutionError>) -> Void

    private struct Job: Sendable {
        var room: Int64
        var refresh: Bool
        var completion: Completion
    }

    private struct State {
        var jobs: [Job] = []
        var head = 0
        var stopping = false
        var thread: PosixThread?
    }

    private let resolver: any RoomEndpointResolving
    private let state = Lock(State())
    /// Counts queued jobs (plus one wake-up at stop).
    private let signal = Semaphore()

    init(resolver: any RoomEndpointResolving) {
        self.resolver = resolver
    }

    func start() throws(CollectorError) {
        let thread: PosixThread
        do throws(SystemError) {
            thread = try PosixThread.spawn(name: "danmu-resolver") { [self] in run() }
        } catch {
            throw .system(error)
        }
        state.withLock { $0.thread = thread }
    }

    /// Queues a resolution (any thread). After `stop()` the completion is never called.
    func resolve(room: Int64, refresh: Bool, _ completion: @escaping Completion) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(Job(room: room, refresh: refresh, completion: completion))
            return true
        }
        if accepted { signal.signal() }
    }

    /// Drops queued jobs, lets the one in progress finish, and joins the thread.
    func stop() {
        let thread: PosixThread? = state.withLock { state in
            state.stopping = true
            state.jobs.removeAll()
            state.head = 0
            defer { state.thread = nil }
            return state.thread
        }
        signal.signal()
        thread?.join()
    }

    private func run() {
        while true {
            signal.wait()
            let job: Job?? = state.withLock { state in
                if state.stopping { return .some(nil) }
                guard state.head < state.jobs.count else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                return job
            }
            switch job {
            case .some(nil): return
            case .none: continue
            case .some(.some(let job)): job.completion(resolve(job.room, refresh: job.refresh))
            }
        }
    }

    private func resolve(_ room: Int64, refresh: Bool) -> Result<SessionEndpoint, RoomResolutionError> {
        do throws(RoomResolutionError) {
            let resolved = try resolver.resolveEndpoint(room: room, refresh: refresh)
            var hosts: [SessionEndpoint.Host] = []
            var lastError: RoomResolutionError?
            for server in resolved.servers {
                do throws(RoomResolutionError) {
                    let address = try HostLookup.address(host: server.host, port: server.port)
                    hosts.append(SessionEndpoint.Host(server: server, ipv4: address.ipv4))
                } catch {
                    lastError = error
                }
            }
            guard !hosts.isEmpty else {
                throw lastError ?? RoomResolutionError("resolver returned no servers for room \(room)")
            }
            return .success(
                SessionEndpoint(
                    roomID: resolved.roomID, token: resolved.token ?? "", hosts: hosts, uid: resolved.uid,
                    buvid: resolved.buvid))
        } catch {
            return .failure(error)
        }
    }
}

extension RoomResolver: RoomEndpointResolving {
    /// Adapts the HTTP resolver: a refresh drops the cached token first; only "no such room" is permanent.
    public func resolveEndpoint(room: Int64, refresh: Bool) throws(RoomResolutionError) -> RoomEndpoint {
        if refresh { invalidateToken(room: room) }
        do throws(ResolveError) {
            return try resolve(room: room)
        } catch {
            if case .roomNotFound = error { throw RoomResolutionError(error.description, permanent: true) }
            throw RoomResolutionError(error.description, permanent: false)
        }
    }
}
