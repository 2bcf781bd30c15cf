import Glibc

/// HTTPS through the system `curl` binary, started with `posix_spawn` (no shell, no Foundation,
/// no TLS library of our own). Blocking; call from a non-loop thread.
///
/// - stdout is a pipe carrying `curl -i` output (status line + headers + body), parsed here.
/// - The cookie travels in a config file fed on stdin (`--config -`), so a SESSDATA never shows in `ps`.
/// - `--max-time` / `--connect-timeout` bound every request; output beyond `maxResponseBytes` kills curl.
struct CurlHTTPClient: HTTPClient {
    var curlPath: String
    var maxResponseBytes: Int

    init(curlPath: String = "/usr/bin/curl", maxResponseBytes: Int = 8 << 20) {
        self.curlPath = curlPath
        self.maxResponseBytes = maxResponseBytes
    }

    func get(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        var arguments = [
            "curl", "--silent", "--show-error", "--include", "--globoff", "--proto", "=http,https",
            "--max-time", String(max(1, request.timeoutSeconds)),
            "--connect-timeout", String(max(1, min(request.timeoutSeconds, 5))),
            "--user-agent", request.userAgent,
        ]
        for header in request.headers { arguments += ["--header", "\(header.name): \(header.value)"] }
        arguments.append("--url")
        arguments.append(request.url)
        var config = ""
        if let cookie = request.cookie, !cookie.isEmpty {
            config = "header = \"Cookie: \(CurlHTTPClient.configEscape(cookie))\"\n"
            arguments += ["--config", "-"]
        }
        let run = try ChildProcess.run(
            path: curlPath, arguments: arguments, stdin: Array(config.utf8),
            maxOutput: maxResponseBytes)
        if run.outputTruncated { throw .tooLarge(maxResponseBytes) }
        guard run.exitCode == 0 else {
            let message = String(decoding: run.errorOutput, as: UTF8.self).trimmingSpaces
            throw .transportFailed(exitCode: run.exitCode, message: message)
        }
        return try CurlHTTPClient.parse(run.output)
    }

    /// Escapes a value for a double-quoted curl config string.
    static func configEscape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n", "\r": continue  // header injection guard
            default: out.append(character)
            }
        }
        return out
    }

    /// Parses `curl -i` output: skips 1xx and proxy-CONNECT header blocks, keeps the final one.
    static func parse(_ output: [UInt8]) throws(HTTPError) -> HTTPResponse {
        var offset = 0
        while true {
            guard let end = headerEnd(output, from: offset) else {
                throw .malformedResponse("no end of headers in \(output.count) bytes")
            }
            // Split on bytes: in Swift "\r\n" is one Character and would not split on "\n".
            var lines = output[offset..<end.headers].split(separator: 10)
                .map { String(decoding: $0, as: UTF8.self).trimmingSpaces }
            guard !lines.isEmpty, lines[0].hasPrefix("HTTP/") else {
                throw .malformedResponse("status line missing")
            }
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let status = Int(parts[1]) else {
                throw .malformedResponse("bad status line \(statusLine)")
            }
            let rest = output[end.body...]
            let continues =
                rest.starts(with: Array("HTTP/".utf8))
                && ((100..<200).contains(status) || statusLine.lowercased().contains("connection established"))
            if continues {
                offset = end.body
                continue
            }
            let headers = lines.compactMap { line -> HTTPHeader? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return HTTPHeader(
                    String(line[..<colon]).trimmingSpaces,
                    String(line[line.index(after: colon)...]).trimmingSpaces)
            }
            return HTTPResponse(status: status, headers: headers, body: Array(rest))
        }
    }

    /// Index where the header block ends and where the body starts (`\r\n\r\n` or `\n\n`).
    private static func headerEnd(_ bytes: [UInt8], from start: Int) -> (headers: Int, body: Int)? {
        var i = start
        while i < bytes.count {
            if bytes[i] == 10 {
                if i + 1 < bytes.count, bytes[i + 1] == 10 { return (i, i + 2) }
                if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }
}
