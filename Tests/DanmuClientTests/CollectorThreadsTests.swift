import DanmuClient
import Glibc
import TestSupport
import XCTest

/// architecture.md § Threads: a collector starts one IO thread (`danmu-io`), `workers` pool threads
/// (`danmu-worker-N`) and, only without a fixed server, one resolver thread (`danmu-resolver`); `shutdown()`
/// ends them. Counted by name in /proc/self/task (threads of earlier tests may still be named alike, so the
/// counts are taken relative to before the collector started).
final class CollectorThreadsTests: XCTestCase {
    private struct NeverResolves: RoomEndpointResolving {
        func resolveEndpoint(room: Int64, refresh: Bool) throws(RoomResolutionError) -> RoomEndpoint {
            RoomEndpoint(roomID: room, token: "", servers: [.init(host: "127.0.0.1", port: 9)])
        }
    }

    private func counts() -> [String: Int] {
        var result: [String: Int] = [:]
        for tid in TestFiles.list("/proc/self/task") {
            guard let bytes = TestFiles.read("/proc/self/task/\(tid)/comm") else { continue }
            var name = String(decoding: bytes.filter { $0 != 10 }, as: UTF8.self)
            if name.hasPrefix("danmu-worker-") { name = "danmu-worker-N" }
            result[name, default: 0] += 1
        }
        return result
    }

    /// Starts a collector with `body`; waits until the new threads match `expected` (or 10 s), returns what appeared.
    private func started(expecting expected: [String: Int], by body: () throws -> DanmuCollector) throws -> (
        DanmuCollector, [String: Int]
    ) {
        // Threads of earlier tests may still be exiting: start from two equal readings in a row (every 100 ms, ≤ 3 s).
        var before = counts()
        _ = pollUntil(timeout: .seconds(3), interval: .milliseconds(100)) {
            let now = counts()
            defer { before = now }
            return now == before
        }
        let collector = try body()
        var delta: [String: Int] = [:]
        let names = ["danmu-io", "danmu-worker-N", "danmu-resolver"]
        _ = pollUntil(timeout: .seconds(10), interval: .milliseconds(10)) {
            let now = counts()
            for name in names { delta[name] = (now[name] ?? 0) - (before[name] ?? 0) }
            return delta == expected
        }
        return (collector, delta)
    }

    func testCollectorStartsIOWorkersAndAResolverOnlyWithoutAServer() throws {
        let (fixed, withServer) = try started(
            expecting: ["danmu-io": 1, "danmu-worker-N": 3, "danmu-resolver": 0]
        ) {
            let collector = try DanmuCollector(
                configuration: .init(server: .init(host: "127.0.0.1", port: 9), workers: 3))
            try collector.start()
            return collector
        }
        XCTAssertEqual(withServer["danmu-io"], 1, "\(withServer)")
        XCTAssertEqual(withServer["danmu-worker-N"], 3, "\(withServer)")
        XCTAssertEqual(withServer["danmu-resolver"], 0, "no resolver thread with a fixed server: \(withServer)")
        let before = counts()
        fixed.shutdown()
        XCTAssertTrue(
            pollUntil(timeout: .seconds(10), interval: .milliseconds(10)) {
                let now = counts()
                return (now["danmu-io"] ?? 0) == (before["danmu-io"] ?? 0) - 1
                    && (now["danmu-worker-N"] ?? 0) == (before["danmu-worker-N"] ?? 0) - 3
            }, "shutdown ends the collector's threads: \(counts())")

        let (resolving, withResolver) = try started(
            expecting: ["danmu-io": 1, "danmu-worker-N": 2, "danmu-resolver": 1]
        ) {
            var configuration = DanmuCollector.Configuration(workers: 2)
            configuration.resolver = NeverResolves()
            let collector = try DanmuCollector(configuration: configuration)
            try collector.start()
            return collector
        }
        defer { resolving.shutdown() }
        XCTAssertEqual(withResolver["danmu-io"], 1, "\(withResolver)")
        XCTAssertEqual(withResolver["danmu-worker-N"], 2, "\(withResolver)")
        XCTAssertEqual(withResolver["danmu-resolver"], 1, "one resolver thread without a server: \(withResolver)")
    }
}
