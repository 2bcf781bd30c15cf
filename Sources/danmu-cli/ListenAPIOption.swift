/// `listen --api URL`: the base URL standing in for both live-site API hosts, so the whole resolver path runs
/// against the simulator's `--api-port` with no network.
extension ListenOptions {
    /// Validates `--api`: an `http://` or `https://` URL with a host, without a trailing slash; not with --server
    /// (which skips resolving altogether).
    static func parseAPI(_ text: String?, server: HostPort?) throws(UsageError) -> String? {
        guard var url = text else { return nil }
        guard server == nil else {
            throw UsageError("--api and --server contradict each other: --server skips the resolver --api points")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"),
            url.split(separator: "/", omittingEmptySubsequences: true).count >= 2
        else {
            throw UsageError(
                "--api must be an http:// or https:// URL such as http://127.0.0.1:8080, got \(quoted(url))")
        }
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
