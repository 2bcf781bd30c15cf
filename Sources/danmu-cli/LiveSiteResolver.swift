import DanmuClient

/// Adapter: the protocol layer's `RoomResolver` (HTTP: room_init, buvid3, WBI-signed getDanmuInfo) as the
/// collector's `RoomEndpointResolving`. Lives in the CLI because the two library pieces were written in
/// parallel; if DanmuClient gains its own conformance this file can go.
struct LiveSiteResolver: RoomEndpointResolving {
    let resolver: RoomResolver
    let tokenOverride: String?

    init(options: ListenOptions, warnings: WarningLog? = nil) {
        var configuration = RoomResolver.Configuration()
        configuration.cookie = options.cookie
        configuration.uid = options.uid
        configuration.buvid = options.buvid
        if let warnings {
            configuration.onWarning = { warning in
                let cause: String
                switch warning {
                case .keyless: cause = "resolver-keyless"
                case .guest: cause = "resolver-guest"
                }
                warnings.warn(cause: cause, warning.description)
            }
        }
        resolver = RoomResolver(configuration: configuration)
        tokenOverride = options.token
    }

    func resolveEndpoint(room: Int64) throws(RoomResolutionError) -> ResolvedRoom {
        let endpoint: RoomEndpoint
        do throws(ResolveError) {
            endpoint = try resolver.resolve(room: room)
        } catch {
            let permanent: Bool
            if case .roomNotFound = error { permanent = true } else { permanent = false }
            throw RoomResolutionError(error.description, permanent: permanent)
        }
        return ResolvedRoom(
            roomID: endpoint.roomID, token: tokenOverride ?? endpoint.token ?? "",
            servers: endpoint.hosts.map { .init(host: $0.host, port: $0.port) }, uid: endpoint.uid,
            buvid: endpoint.buvid)
    }
}
