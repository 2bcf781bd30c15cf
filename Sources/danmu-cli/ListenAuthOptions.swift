import Glibc

/// The login options of `listen`: where the cookie comes from (never needed on the command line, where `ps`
/// shows it), the User-Agent of the resolver's requests, and the check that `--uid` comes with the cookie of
/// that account.
extension ListenOptions {
    static let authSpecs: [OptionSpec] = [
        OptionSpec(
            name: "cookie-file", valueName: "FILE",
            help: "read the Cookie header from FILE (kept out of ps; DANMU_COOKIE works too)"),
        OptionSpec(
            name: "user-agent", valueName: "UA",
            help: "User-Agent of the resolver's requests (default: a current browser)"),
        OptionSpec(
            name: "keyless",
            help: "when getDanmuInfo fails, connect to broadcastlv with an empty key (servers are reported to close "
                + "such connections; default: retry the resolution)"),
    ]

    /// --cookie, --cookie-file or DANMU_COOKIE (in that order, at most one of the options), --user-agent, and
    /// --uid only with a cookie when the live site is used.
    static func parseAuth(
        _ arguments: ParsedArguments, environment: (String) -> String?, into options: inout ListenOptions
    )
        throws(UsageError)
    {
        let inline = arguments.string("cookie")
        let file = arguments.string("cookie-file")
        if inline != nil, file != nil {
            throw UsageError(
                "--cookie and --cookie-file contradict each other: pick one (--cookie-file keeps it out of ps)")
        }
        if let inline {
            options.cookie = inline
        } else if let file {
            options.cookie = try readCookieFile(file)
        } else if let value = environment("DANMU_COOKIE"), !Substring(value).trimmingWhitespace().isEmpty {
            options.cookie = String(Substring(value).trimmingWhitespace())
        }
        if let agent = arguments.string("user-agent") {
            guard !agent.isEmpty, !agent.contains(where: { $0 == "\n" || $0 == "\r" }) else {
                throw UsageError("--user-agent must be one non-empty line")
            }
            options.userAgent = agent
        }
        options.keyless = arguments.has("keyless")
        if options.keyless, options.server != nil {
            throw UsageError("--keyless applies to rooms resolved through getDanmuInfo, not to --server")
        }
        // The live server force-closes an AUTH whose uid the cookie does not own; the simulator does not care.
        if options.uid != nil, options.server == nil, !(options.cookie ?? "").contains("SESSDATA=") {
            throw UsageError(
                "--uid needs the login cookie of that account (--cookie-file FILE or DANMU_COOKIE with SESSDATA=…): "
                    + "the server closes connections whose uid the cookie does not own. Leave --uid out and the uid "
                    + "is read from the cookie (the nav API's mid)")
        }
    }

    /// The cookie in FILE: one line (a leading `Cookie:` is dropped), surrounding whitespace trimmed.
    static func readCookieFile(_ path: String) throws(UsageError) -> String {
        let bytes: [UInt8]
        switch Posix.readFile(path) {
        case .success(let read): bytes = read
        case .failure(let error): throw UsageError("--cookie-file: \(error.description)")
        }
        var text = Substring(String(decoding: bytes, as: UTF8.self)).trimmingWhitespace()
        if text.lowercased().hasPrefix("cookie:") { text = text.dropFirst("cookie:".count).trimmingWhitespace() }
        guard !text.isEmpty else { throw UsageError("--cookie-file: \(path) is empty") }
        guard !text.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw UsageError("--cookie-file: \(path) must hold the cookie on one line (SESSDATA=…; bili_jct=…)")
        }
        return String(text)
    }

    /// The process environment (getenv), for `parseAuth`.
    static func processEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
