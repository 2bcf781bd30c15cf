import DanmuClient
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuRealtime

/// A real client on a real socket: a tiny fixed HTTP responder in the test (the http helper builds the real server)
/// hands each connection to `openEventStream`, and `curl -N` / Python's urllib read the stream.
final class FanoutSocketTests: XCTestCase {
    /// Answers any request with a fixed SSE response head, then gives the connection to the hub.
    final class MiniServer: ListenerHandler {
        let hub: EventHub
        init(hub: EventHub) { self.hub = hub }

        func listener(_ listener: ListenerID, didAccept connection: ConnectionID, from peer: SocketAddress)
            -> any ConnectionHandler
        {
            Connection(hub: hub)
        }
    }

    /// One connection: reads the request head, answers, then is an SSE subscriber (and its `SubscriberOutput`).
    final class Connection: ConnectionHandler, SubscriberOutput {
        let hub: EventHub
        var id: ConnectionID?
        var request: [UInt8] = []
        var subscriber: SubscriberID?

        init(hub: EventHub) { self.hub = hub }

        func connectionDidOpen(_ connection: ConnectionID) { id = connection }

        func connection(_ connection: ConnectionID, didRead bytes: UnsafeRawBufferPointer) {
            guard subscriber == nil else { return }
            request += bytes
            let text = String(decoding: request, as: UTF8.self)
            guard let end = text.firstRange(of: "\r\n\r\n") else { return }
            let head = text[..<end.lowerBound].split(separator: "\r\n")
            // `GET /events?rooms=1,2 HTTP/1.1`: this test's queries need no percent-decoding.
            let target = head.first?.split(separator: " ").dropFirst().first ?? ""
            let query = target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
            let pairs = query.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
            }
            let lastEventID = head.dropFirst().first { $0.lowercased().hasPrefix("last-event-id:") }
                .map { String($0.dropFirst("last-event-id:".count).drop { $0 == " " }) }
            guard let subscription = try? Subscription.parse(query: pairs, lastEventID: lastEventID) else {
                hub.reactor.write(connection, Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
                return hub.reactor.closeAfterFlush(connection)
            }
            let response =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                + "Connection: close\r\n\r\n"
            hub.reactor.write(connection, Array(response.utf8))
            subscriber = hub.openEventStream(subscription, output: self)
        }

        func connection(_ connection: ConnectionID, didClose reason: CloseReason) {
            if let subscriber { hub.subscriberDidClose(subscriber) }
        }

        func connectionDidDrainWrites(_ connection: ConnectionID) {
            if let subscriber { hub.outputDidDrain(subscriber) }
        }

        func send(_ bytes: [UInt8]) { if let id { hub.reactor.write(id, bytes) } }
        var pendingBytes: Int { id.map { hub.reactor.pendingWriteBytes($0) } ?? 0 }
        func close() { if let id { hub.reactor.closeAfterFlush(id) } }
    }

    func readText(_ path: String) -> String { TestFiles.read(path).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    func stop(_ child: pid_t) {
        kill(child, SIGTERM)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    }

    /// Waits (≤ 20 s) for `child` to exit; returns its exit status, or nil (and kills it) on timeout.
    func wait(_ child: pid_t) -> Int32? {
        var status: Int32 = 0
        let exited = pollUntil(timeout: .seconds(20), interval: .milliseconds(10)) {
            waitpid(child, &status, WNOHANG) == child
        }
        guard exited else {
            stop(child)
            return nil
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    static let pythonReader = """
        import sys, urllib.request
        headers = {"Last-Event-ID": sys.argv[3]} if len(sys.argv) > 3 else {}
        with urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers=headers), timeout=20) as response:
            print(response.status, response.headers["Content-Type"], flush=True)
            want, seen = int(sys.argv[2]), 0
            for line in response:
                line = line.decode()
                if line.startswith("event: gap"):
                    print("gap", flush=True)
                if line.startswith("id: "):
                    print(line.strip(), flush=True)
                    seen += 1
                if seen == want:
                    break
        """

    func testCurlAndUrllibReadTheEventsInIDOrderAndResume() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let hub = EventHub(reactor: reactor, configuration: .init(epoch: 31))
        defer { hub.close() }
        let port = try XCTUnwrap(
            onLoop(reactor) { () -> UInt16? in
                // The reactor keeps the listener's handler for as long as it listens.
                let server = MiniServer(hub: hub)
                guard let listener = try? reactor.listen(on: .loopback(port: 0), handler: server) else { return nil }
                return reactor.localAddress(of: listener)?.port
            })
        let url = "http://127.0.0.1:\(port)/events?rooms=1,2&kinds=danmaku"
        let curlOutput = "/tmp/danmu-fanout-curl-\(getpid()).out"
        defer { unlink(curlOutput) }
        guard
            let curl = spawnProcess(["curl", "-N", "-s", "--max-time", "30", url], output: curlOutput, truncate: true)
        else {
            return XCTFail("cannot start curl (Scripts/ensure-test-deps.sh installs it)")
        }
        defer { stop(curl) }
        XCTAssertTrue(pollUntil(timeout: .seconds(20), interval: .milliseconds(10)) { hub.statistics.subscribers == 1 })
        // Room 3 and the popularity are filtered out: only the danmaku of rooms 1 and 2.
        publish(hub, [danmaku(1, "one"), danmaku(3, "other room"), danmaku(2, "two")])
        publish(hub, [popularity(1, 5), danmaku(1, "three")])
        publish(hub, [danmaku(2, "four"), danmaku(1, "five")])
        let arrived = pollUntil(timeout: .seconds(20), interval: .milliseconds(10)) {
            sseIDs(self.readText(curlOutput)).count == 5
        }
        let text = readText(curlOutput)
        XCTAssertTrue(arrived, text)
        XCTAssertTrue(text.hasPrefix("retry: 3000\n\nid: 31-1\ndata: {\"room\":1,"), text)
        XCTAssertEqual(sseIDs(text), ["31-1", "31-3", "31-5", "31-6", "31-7"])
        XCTAssertTrue(text.contains("\"text\":\"five\""))

        // urllib resumes with Last-Event-ID: the held events after 31-3 arrive, in order, with no gap.
        let pythonOutput = "/tmp/danmu-fanout-python-\(getpid()).out"
        defer { unlink(pythonOutput) }
        guard
            let python = spawnProcess(
                ["python3", "-c", Self.pythonReader, url, "3", "31-3"], output: pythonOutput, truncate: true)
        else {
            return XCTFail("cannot start python3 (Scripts/ensure-test-deps.sh installs it)")
        }
        XCTAssertEqual(wait(python), 0, readText(pythonOutput))
        XCTAssertEqual(
            readText(pythonOutput), "200 text/event-stream\nid: 31-5\nid: 31-6\nid: 31-7\n")
        XCTAssertEqual(hub.statistics.deliveries, 8)
    }
}
