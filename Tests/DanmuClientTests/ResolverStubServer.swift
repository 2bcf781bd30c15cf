import Glibc
import Synchronization

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 for resolver tests: one accept thread, one request per
/// connection (`Connection: close`). Routes map a path prefix to a queue of canned answers; the last
/// answer of a queue repeats. Every request line and its headers are recorded for assertions.
final class StubHTTPServer: @unchecked Sendable {
    struct Answer: Sendable {
        var status: Int = 200
        var contentType = "application/json; charset=utf-8"
        var headers: [String] = []
        var body: [UInt8]
        static func json(_ text: String) -> Answer { Answer(body: Array(text.utf8)) }
        static func html(_ text: String) -> Answer { Answer(contentType: "text/html", body: Array(text.utf8)) }
    }

    struct Request: Sendable {
        var target: String
        var headers: [String: String]
        var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
        var query: [String: String] {
            guard let q = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
            var out: [String: String] = [:]
            for pair in q.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                out[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
            return out
        }
    }

    private let routes: Mutex<[String: [Answer]]>
    private let log = Mutex<[Request]>([])
    private let listenFD: Int32
    let port: UInt16
    private var thread = pthread_t()

    init(routes: [String: [Answer]]) {
        self.routes = Mutex(routes)
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(listenFD >= 0)
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(bound == 0 && listen(listenFD, 64) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listenFD = listenFD
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { raw in
                let server = Unmanaged<StubHTTPServer>.fromOpaque(raw!).takeRetainedValue()
                server.acceptLoop()
                return nil
            }, context)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.withLock { $0 } }
    func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    func setRoute(_ path: String, _ answers: [Answer]) { routes.withLock { $0[path] = answers } }

    /// Stops accepting (shutdown wakes the blocked accept) and joins the thread.
    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        pthread_join(thread, nil)
        close(listenFD)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(fd)
            close(fd)
        }
    }

    private func serve(_ fd: Int32) {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !data.containsHeaderEnd {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            data += chunk[0..<n]
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\r\n").map(String.init)
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(" ")
        }
        let request = Request(target: String(parts[1]), headers: headers)
        log.withLock { $0.append(request) }
        let answer: Answer = routes.withLock { table in
            guard var queue = table[request.path], !queue.isEmpty else {
                return Answer(status: 404, contentType: "text/plain", body: Array("not found".utf8))
            }
            let first = queue.count > 1 ? queue.removeFirst() : queue[0]
            table[request.path] = queue
            return first
        }
        var head = "HTTP/1.1 \(answer.status) X\r\nContent-Type: \(answer.contentType)\r\n"
        for header in answer.headers { head += header + "\r\n" }
        head += "Content-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
        let out = Array(head.utf8) + answer.body
        var offset = 0
        while offset < out.count {
            let n = out[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }
}

extension [UInt8] {
    fileprivate var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
            return true
        }
        return false
    }
}

extension String {
    fileprivate func trimmingCharacters(_ set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
