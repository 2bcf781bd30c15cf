import DanmuClient
import DanmuCodecs

/// The server side of the WebSocket opening handshake (RFC 6455 §4.2.1): a GET with `Upgrade: websocket`,
/// `Connection: Upgrade`, version 13 and a 16-byte base64 key, from an allowed `Origin` (§10.2: a browser always
/// sends one, so a page on another site cannot subscribe through its visitor's browser).
enum WebSocketUpgradeCheck {
    struct Refusal: Error {
        var response: HTTPResponse
    }

    /// The `Sec-WebSocket-Accept` value, or the response that refuses the upgrade.
    static func validate(_ request: HTTPRequest, allowedOrigins: Set<String>) -> Result<String, Refusal> {
        func refuse(_ status: Int, _ message: String, headers: [(name: String, value: String)] = [])
            -> Result<String, Refusal>
        {
            .failure(Refusal(response: .text(status, message, headers: headers)))
        }
        guard hasToken(request, "upgrade", "websocket") else {
            return refuse(
                426, "/ws is a WebSocket endpoint: send 'Upgrade: websocket'", headers: [("Upgrade", "websocket")])
        }
        guard hasToken(request, "connection", "upgrade") else {
            return refuse(400, "WebSocket upgrade without 'Connection: Upgrade'")
        }
        guard request.header("sec-websocket-version") == "13" else {
            return refuse(
                426, "only WebSocket version 13 is supported", headers: [("Sec-WebSocket-Version", "13")])
        }
        guard let key = request.header("sec-websocket-key"), let decoded = try? Base64.decode(key), decoded.count == 16
        else {
            return refuse(400, "Sec-WebSocket-Key must be the base64 of 16 bytes")
        }
        if let origin = request.header("origin") {
            let host = (request.header("host") ?? "").lowercased()
            let own: Set<String> = ["http://\(host)", "https://\(host)"]
            guard own.contains(origin.lowercased()) || allowedOrigins.contains(origin) else {
                return refuse(403, "Origin \(origin) is not allowed to open /ws")
            }
        }
        return .success(WebSocketHandshake.acceptValue(forKey: key))
    }

    /// Whether header `name` lists `token` (comma-separated, case-insensitive).
    private static func hasToken(_ request: HTTPRequest, _ name: String, _ token: String) -> Bool {
        request.headers.contains { header in
            header.name == name
                && header.value.lowercased().split(separator: ",").contains { $0.trimmingBlanks() == token[...] }
        }
    }
}
