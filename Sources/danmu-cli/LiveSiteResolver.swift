import DanmuClient

/// The live site's resolver as the CLI configures it: DanmuClient's `RoomResolver` (room_init, buvid3,
/// WBI-signed getDanmuInfo) with the user's cookie/uid/buvid, its warnings routed to the CLI's once-per-cause
/// log, and `--token` replacing the fetched key when given.
struct LiveSiteResolver: RoomEndpointResolving {
    let resolver: RoomResolver
    let tokenOverride: String?

    init(options: ListenOptions, warnings: WarningLog) {
        var configuration = RoomResolver.Configuration()
        configuration.cookie = options.cookie
        configuration.uid = options.uid
        configuration.buvid = options.buvid
        configuration.onWarning = { warning in
            switch warning {
            case .keyless: warnings.warn(cause: "resolver-keyless", warning.description)
            case .guest: warnings.warn(cause: "resolver-guest", warning.description)
            }
        }
        if let agent = options.userAgent { configuration.userAgent = agent }
        configuration.onLog = { line in StandardError.print("danmu-cli: resolver: " + line) }
        if let api = options.api {
            configuration.liveAPIBase = api
            configuration.mainAPIBase = api
        }
        // Issue 16: the `"key":""` fallback is asked for, never implied; the user hears once what it risks.
        configuration.allowKeylessFallback = options.keyless
        if options.keyless {
            warnings.warn(cause: "keyless-mode", Self.keylessWarning)
        }
        resolver = RoomResolver(configuration: configuration)
        tokenOverride = options.token
    }

    /// Printed once at start with --keyless.
    static let keylessWarning =
        "--keyless: rooms whose getDanmuInfo fails connect to broadcastlv with an empty key; current servers are "
        + "reported to close key-less connections (and names are masked, messages sampled)"

    func resolveEndpoint(room: Int64, refresh: Bool) throws(RoomResolutionError) -> RoomEndpoint {
        var resolved = try resolver.resolveEndpoint(room: room, refresh: refresh)
        if let tokenOverride { resolved.token = tokenOverride }
        return resolved
    }
}
