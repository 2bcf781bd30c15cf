import DanmuClient
import EventLoop
import Glibc

/// How events are printed.
enum OutputFormat: String {
    /// One human-readable line per event (default when stdout is a terminal).
    case text
    /// One JSON object per line, the stable schema (default otherwise).
    case jsonl
}

/// A server given with --server / --listen: a host name or IPv4 address and a port.
struct HostPort: Equatable, CustomStringConvertible {
    var host: String
    var port: UInt16
    var description: String { "\(host):\(port)" }

    /// Parses "HOST:PORT" (port 0 allowed only when `allowZero`, for listening on a free port).
    static func parse(_ text: String, option: String, allowZero: Bool = false) throws(UsageError) -> HostPort {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
            throw UsageError("--\(option) must be HOST:PORT, got \(quoted(text))")
        }
        let host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText), port > 0 || allowZero else {
            throw UsageError("--\(option) port must be \(allowZero ? 0 : 1)–65535, got \(quoted(String(portText)))")
        }
        return HostPort(host: host, port: port)
    }

    /// The IPv4 address text for `host` ("localhost" and names resolved with getaddrinfo, IPv4 only).
    func resolveIPv4() -> Result<String, UsageError> {
        var probe = in_addr()
        if inet_pton(AF_INET, host, &probe) == 1 { return .success(host) }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list, let address = first.pointee.ai_addr else {
            let why = status == 0 ? "no IPv4 address" : String(cString: gai_strerror(status))
            return .failure(UsageError("cannot resolve \(host): \(why)"))
        }
        defer { freeaddrinfo(list) }
        var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &ipv4, &buffer, socklen_t(buffer.count))
        return .success(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// Everything `listen` was asked to do, validated.
struct ListenOptions {
    var rooms: [Int64] = []
    var server: HostPort? = nil
    var cookie: String? = nil
    var uid: Int64? = nil
    var buvid: String? = nil
    var token: String? = nil
    var protover = 3
    var format: OutputFormat = .text
    /// Event kinds to print; nil prints all.
    var kinds: Set<EventKind>? = nil
    var outputPath: String? = nil
    var rotation: RotationPolicy = .never
    var duration: Double? = nil
    var workers: Int? = nil
    var summary = false
    var status = true
    /// --sink, --filter, --anonymize-key-file, --dedupe, --spool-dir.
    var pipeline = PipelineOptions()
    var transport = DanmuCollector.Configuration.Transport.tcp
    /// wss/auto: the certificate check (system CA store, --ca-file, or --insecure).
    var verification = TLSVerification.systemTrustStore
    /// auto with --server: the wss port (the --server port is TCP's then).
    var wssPort: UInt16? = nil
    /// --api URL: the live site's HTTP API base for every resolver request (the simulator's --api-port).
    var api: String? = nil
    /// --top & co: rooms from the site's room list (RoomDiscovery).
    var discovery: DiscoveryOptions? = nil
    /// --rooms-file: re-read on SIGHUP (RoomsFileReloader); `fileRooms` are the rooms it held at start.
    var roomsFile: String? = nil
    var fileRooms: [Int64] = []
    /// --user-agent: the resolver's User-Agent (nil: its current-browser default).
    var userAgent: String? = nil
    /// --keyless: connect key-less to broadcastlv when getDanmuInfo fails (warned once at start).
    var keyless = false
    /// --cluster & co: the rooms come from Redis (docs/cluster.md).
    var cluster: ClusterOptions? = nil
    /// --http, --http-token-file.
    var http = HTTPOptions()
    /// --bind-address (repeatable): local source addresses the rooms' sockets are spread over (room id modulo
    /// their count); empty lets the kernel choose.
    var bindAddresses: [SocketAddress] = []

    static let specs: [OptionSpec] =
        [
            OptionSpec(
                name: "rooms-file", valueName: "FILE", help: "read room ids from FILE (one per line, # comments)"),
            OptionSpec(
                name: "server", valueName: "HOST:PORT", help: "connect there instead of resolving rooms (the simulator)"
            ),
            OptionSpec(
                name: "cookie", valueName: "COOKIE",
                help: "Cookie header for the live site (SESSDATA=…; buvid3=…); shows in ps: prefer --cookie-file"),
            OptionSpec(
                name: "uid", valueName: "UID",
                help: "logged-in user id of the cookie's account (default: nav's mid with a cookie, else 0)"),
            OptionSpec(name: "buvid", valueName: "BUVID", help: "buvid3 value sent to the site and in the auth packet"),
            OptionSpec(name: "token", valueName: "KEY", help: "auth key to send instead of asking getDanmuInfo"),
            OptionSpec(
                name: "protover", valueName: "2|3",
                help: "compression asked from the server: 2 zlib, 3 brotli (default 3)"),
            OptionSpec(
                name: "format", valueName: "text|jsonl",
                help: "output format (default: text on a terminal, jsonl otherwise)"),
            OptionSpec(
                name: "events", valueName: "KINDS", help: "only these event kinds, comma-separated (danmaku,gift,…)"),
            OptionSpec(
                name: "output", short: "o", valueName: "FILE", help: "append events to FILE instead of standard output"),
            OptionSpec(
                name: "rotate", valueName: "SIZE|daily", help: "rotate --output at SIZE bytes (K/M/G suffix) or daily"),
            OptionSpec(
                name: "duration", valueName: "SECONDS", help: "stop after SECONDS (default: until Ctrl-C / SIGTERM)"),
            OptionSpec(
                name: "workers", valueName: "N", help: "decoding worker threads (default: cores - 1, at least 1)"),
            OptionSpec(
                name: "transport", valueName: "tcp|ws|wss|auto",
                help: "how to reach the server (default tcp; auto: tcp, then wss for rooms tcp fails); --server's port "
                    + "is the chosen transport's"),
            OptionSpec(name: "ca-file", valueName: "FILE", help: "wss: trust only the CA certificates in FILE (PEM)"),
            OptionSpec(name: "insecure", help: "wss: do not check the server's certificate at all (warned loudly)"),
            OptionSpec(name: "wss-port", valueName: "PORT", help: "with --server and --transport auto: the wss port"),
            OptionSpec(
                name: "api", valueName: "URL",
                help: "resolve rooms through this HTTP API instead of the live site (the simulator's --api-port)"),
            OptionSpec(
                name: "bind-address", valueName: "ADDR",
                help: "connect from this local IPv4 address (repeatable: rooms spread by room id modulo the count)"),
            OptionSpec(name: "summary", help: "print one JSON line of totals on stderr at exit"),
            OptionSpec(name: "no-status", help: "never draw the live status line on stderr"),
        ] + authSpecs + DiscoveryOptions.specs + PipelineOptions.specs + ClusterOptions.specs + HTTPOptions.specs

    /// Validates parsed arguments. `stdoutIsTerminal` picks the default format.
    static func from(_ arguments: ParsedArguments, stdoutIsTerminal: Bool) throws(UsageError) -> ListenOptions {
        var options = ListenOptions()
        var rooms: [Int64] = []
        for word in arguments.positionals {
            rooms.append(try roomID(word, origin: "room id"))
        }
        if let file = arguments.string("rooms-file") {
            options.roomsFile = file
            options.fileRooms = try readRoomsFile(file)
            rooms += options.fileRooms
        }
        var seen = Set<Int64>()
        options.rooms = rooms.filter { seen.insert($0).inserted }
        options.cluster = try ClusterOptions.from(arguments)
        if options.cluster != nil {
            guard options.rooms.isEmpty else {
                throw UsageError("--cluster takes the rooms from Redis: give no room ids (use danmu-cli rooms add)")
            }
        }
        if let server = arguments.string("server") {
            options.server = try HostPort.parse(server, option: "server")
        }
        options.discovery = try DiscoveryOptions.from(arguments, server: options.server)
        if options.cluster != nil, options.discovery != nil {
            throw UsageError("--cluster takes the rooms from Redis, --top from the site's room list: pick one")
        }
        guard !options.rooms.isEmpty || options.discovery != nil || options.cluster != nil else {
            throw UsageError("no rooms given: pass room ids, --rooms-file FILE or --top N")
        }
        options.buvid = arguments.string("buvid")
        options.token = arguments.string("token")
        if let uid = arguments.string("uid") {
            guard let value = Int64(uid), value >= 0 else {
                throw UsageError("--uid must be a non-negative integer, got \(quoted(uid))")
            }
            options.uid = value
        }
        if let protover = arguments.string("protover") {
            guard protover == "2" || protover == "3" else {
                throw UsageError("--protover must be 2 or 3, got \(quoted(protover))")
            }
            options.protover = Int(protover)!
        }
        let format = try arguments.choice("format", ["text", "jsonl"])
        options.format = format.flatMap(OutputFormat.init(rawValue:)) ?? (stdoutIsTerminal ? .text : .jsonl)
        if let kinds = arguments.string("events") {
            options.kinds = try EventKinds.parse(kinds)
        }
        options.outputPath = arguments.string("output")
        if let rotate = arguments.string("rotate") {
            guard let policy = RotationPolicy.parse(rotate) else {
                throw UsageError("--rotate must be a size like 100M or the word daily, got \(quoted(rotate))")
            }
            guard options.outputPath != nil else { throw UsageError("--rotate needs --output FILE") }
            options.rotation = policy
        }
        if format == nil, options.outputPath != nil { options.format = .jsonl }
        options.duration = try arguments.seconds("duration")
        options.workers = try arguments.int("workers", in: 1...256)
        try parseTransport(arguments, into: &options)
        options.bindAddresses = try parseBindAddresses(arguments.all("bind-address"))
        options.api = try parseAPI(arguments.string("api"), server: options.server)
        try parseAuth(arguments, environment: processEnvironment, into: &options)
        options.summary = arguments.has("summary")
        options.status = !arguments.has("no-status")
        options.pipeline = try PipelineOptions.from(arguments)
        options.http = try HTTPOptions.from(arguments)
        return options
    }

    /// --transport, --ca-file, --insecure, --wss-port: TLS options only where TLS is used, never both checks.
    static func parseTransport(_ arguments: ParsedArguments, into options: inout ListenOptions) throws(UsageError) {
        let choices = DanmuCollector.Configuration.Transport.allCases.map(\.rawValue)
        if let text = try arguments.choice("transport", choices) {
            options.transport = DanmuCollector.Configuration.Transport(rawValue: text)!
        }
        let usesTLS = options.transport == .wss || options.transport == .auto
        let caFile = arguments.string("ca-file")
        let insecure = arguments.has("insecure")
        if (caFile != nil || insecure) && !usesTLS {
            throw UsageError("--\(caFile != nil ? "ca-file" : "insecure") applies to --transport wss or auto only")
        }
        if let caFile {
            guard !insecure else { throw UsageError("--ca-file and --insecure contradict each other: pick one") }
            guard access(caFile, R_OK) == 0 else {
                throw UsageError("--ca-file: cannot read \(caFile): \(Posix.describe(errno))")
            }
            options.verification = .caFile(caFile)
        } else if insecure {
            options.verification = .insecureNoVerification
        }
        if let port = try arguments.int("wss-port", in: 1...65535) {
            guard options.transport == .auto, options.server != nil else {
                throw UsageError("--wss-port applies to --server with --transport auto only")
            }
            options.wssPort = UInt16(port)
        }
    }

    /// --bind-address ADDR, repeatable: IPv4 literals only (a source address is never a host name).
    static func parseBindAddresses(_ texts: [String]) throws(UsageError) -> [SocketAddress] {
        var addresses: [SocketAddress] = []
        for text in texts {
            guard let address = try? SocketAddress(ipv4: text, port: 0) else {
                throw UsageError("--bind-address must be an IPv4 address like 10.0.0.2, got \(quoted(text))")
            }
            guard !addresses.contains(address) else {
                throw UsageError("--bind-address \(text) is given twice")
            }
            addresses.append(address)
        }
        return addresses
    }

    /// The fixed server of --server: its port is the chosen transport's (TCP's for auto, with --wss-port).
    var fixedServer: ServerAddress? {
        guard let server else { return nil }
        var fixed = ServerAddress(host: server.host, port: server.port)
        switch transport {
        case .tcp: break
        case .ws: fixed.wsPort = server.port
        case .wss: fixed.wssPort = server.port
        case .auto: fixed.wssPort = wssPort ?? 443
        }
        return fixed
    }

    static func roomID(_ text: String, origin: String) throws(UsageError) -> Int64 {
        guard let value = Int64(text), value > 0 else {
            throw UsageError("\(origin) must be a positive integer, got \(quoted(text))")
        }
        return value
    }

    /// One id per line; blank lines and everything after `#` are ignored.
    static func readRoomsFile(_ path: String) throws(UsageError) -> [Int64] {
        let bytes: [UInt8]
        switch Posix.readFile(path) {
        case .success(let read): bytes = read
        case .failure(let error): throw UsageError("--rooms-file: \(error.description)")
        }
        var rooms: [Int64] = []
        for (index, rawLine) in String(decoding: bytes, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        ).enumerated() {
            var line = rawLine
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            rooms.append(try roomID(String(trimmed), origin: "\(path):\(index + 1): room id"))
        }
        return rooms
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
