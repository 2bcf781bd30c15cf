@testable import DanmuClient
import DanmuRealtime
import TestSupport
import XCTest

/// Made-up room snapshots and a python3 runner, shared by the page, metrics and alarm tests.
enum PageFixtures {
    static func room(
        _ id: Int64, phase: RoomPhase = .live, kinds: [EventKind: Int] = [:], transport: TransportStack.Kind? = .tcp,
        bytes: Int = 0, reconnects: Int = 0, errors: Int = 0, lastError: RoomFailure? = nil, masked: Bool = false,
        queuedBytes: Int = 0
    ) -> RoomStatistics {
        RoomStatistics(
            room: id, phase: phase, bytesReceived: bytes, framesReceived: 0, eventsByKind: kinds, connections: 1,
            reconnects: reconnects, errors: errors, protocolErrors: errors > 0 ? 1 : 0, authFailures: 0,
            lastError: lastError, malformedMessages: 0, maskedModeSeen: masked, lastMessageAt: nil, readPauses: 0,
            isReadingPaused: false, queuedBytes: queuedBytes, transport: transport)
    }

    /// Runs `python3 -c code arguments…`; fails the test (naming ensure-test-deps.sh) when python3 cannot start.
    static func python(_ code: String, _ arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line)
        -> (status: Int32?, output: String)
    {
        guard let process = ScriptProcess(["python3", "-c", code] + arguments) else {
            XCTFail("python3 did not start (errno \(errno)): run Scripts/ensure-test-deps.sh", file: file, line: line)
            return (nil, "")
        }
        return process.waitForExit(timeout: .seconds(30))
    }

    /// The system temp directory ($TMPDIR, else /tmp).
    static var temporaryRoot: String { getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp" }

    /// A new empty directory under the system temp directory.
    static func temporaryDirectory() -> String {
        var template = Array("\(temporaryRoot)/danmu-page-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// Removes `directory` and the files in it (no subdirectories are made here).
    static func removeDirectory(_ directory: String) {
        for name in TestFiles.list(directory, includingHidden: true) { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    /// Runs `body` with `bytes` written to a file in a fresh temp directory, removed afterwards.
    static func withTemporaryFile<T>(_ name: String, _ bytes: [UInt8], _ body: (String) -> T) -> T {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        write(bytes, to: directory + "/" + name)
        return body(directory + "/" + name)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        let file = fopen(path, "wb")!
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
}

/// `RoomsDocument` is what the page polls: checked with Python's json module, key by key.
final class PageRoomsDocumentTests: XCTestCase {
    // Flattens the document into sorted `path=json` lines, rejecting anything but strict JSON.
    private let flatten = """
        import json, sys
        def strict(name): raise ValueError('not JSON: ' + name)
        doc = json.loads(open(sys.argv[1], encoding='utf-8').read(), parse_constant=strict)
        def walk(prefix, value):
            if isinstance(value, dict):
                if not value: print(prefix + '={}')
                for key in value: walk(prefix + '.' + key if prefix else key, value[key])
            elif isinstance(value, list):
                if not value: print(prefix + '=[]')
                for index, item in enumerate(value): walk('%s.%d' % (prefix, index), item)
            else:
                print(prefix + '=' + json.dumps(value, ensure_ascii=False))
        walk('', doc)
        """

    private func flattened(_ bytes: [UInt8]) -> Set<String> {
        let result = PageFixtures.withTemporaryFile("rooms.json", bytes) { PageFixtures.python(flatten, [$0]) }
        XCTAssertEqual(result.status, 0, result.output)
        return Set(result.output.split(separator: "\n").map(String.init))
    }

    func testRoomsDocumentHasEveryFieldThePageReads() {
        let statistics = CollectorStatistics(rooms: [
            PageFixtures.room(
                22, phase: .backingOff, kinds: [.gift: 2], transport: nil, bytes: 900, reconnects: 3, errors: 2,
                lastError: .authRejected(code: -101), masked: true),
            PageFixtures.room(
                5, kinds: [.danmaku: 40, .superChat: 1], transport: .wss, bytes: 12_345, queuedBytes: 77),
        ])
        let alarms = [
            RoomAlarm(room: 22, kind: .masked, raisedAt: .zero), RoomAlarm(room: 5, kind: .silent, raisedAt: .zero),
        ]
        let lines = flattened(RoomsDocument.render(statistics, alarms: alarms))
        let expected = [
            "rooms.0.id=5", "rooms.0.phase=\"live\"", "rooms.0.transport=\"wss\"", "rooms.0.events=41",
            "rooms.0.eventsByKind.danmaku=40", "rooms.0.eventsByKind.super_chat=1", "rooms.0.bytes=12345",
            "rooms.0.reconnects=0", "rooms.0.errors=0", "rooms.0.lastError=null", "rooms.0.maskedMode=false",
            "rooms.0.queuedBytes=77", "rooms.0.alarms.0=\"silent\"",
            "rooms.1.id=22", "rooms.1.phase=\"backoff\"", "rooms.1.transport=null", "rooms.1.events=2",
            "rooms.1.reconnects=3", "rooms.1.errors=2", "rooms.1.protocolErrors=1", "rooms.1.authFailures=0",
            "rooms.1.lastError=\"AUTH_REPLY code -101\"", "rooms.1.maskedMode=true", "rooms.1.alarms.0=\"masked\"",
            "totals.rooms=2", "totals.live=1", "totals.backingOff=1", "totals.connecting=0", "totals.givenUp=0",
            "totals.events=43", "totals.eventsByKind.danmaku=40", "totals.eventsByKind.gift=2", "totals.bytes=13245",
            "totals.reconnects=3", "totals.errors=2", "totals.masked=1", "totals.alarms=2",
        ]
        for line in expected { XCTAssertTrue(lines.contains(line), "missing \(line) in \(lines.sorted())") }
    }

    func testRoomsDocumentEscapesServerTextAndIsValidWhenEmpty() {
        let hostile = RoomFailure.connectionError("quote \" backslash \\ newline \n tab \t <script> 弹幕")
        let lines = flattened(
            RoomsDocument.render(CollectorStatistics(rooms: [PageFixtures.room(1, errors: 1, lastError: hostile)])))
        XCTAssertTrue(
            lines.contains(
                #"rooms.0.lastError="connection error: quote \" backslash \\ newline \n tab \t <script> 弹幕""#),
            "\(lines.sorted())")
        let empty = flattened(RoomsDocument.render(CollectorStatistics(rooms: [])))
        XCTAssertTrue(empty.contains("rooms=[]"), "\(empty.sorted())")
        XCTAssertTrue(empty.contains("totals.eventsByKind={}"), "\(empty.sorted())")
        XCTAssertEqual(RoomsDocument.contentType, "application/json")
    }

    func testRoomsDocumentIsDeterministic() {
        let statistics = CollectorStatistics(rooms: [
            PageFixtures.room(3, kinds: [.gift: 1, .danmaku: 2, .combo: 3]), PageFixtures.room(1),
        ])
        XCTAssertEqual(RoomsDocument.render(statistics), RoomsDocument.render(statistics))
        let text = String(decoding: RoomsDocument.render(statistics), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"rooms":[{"id":1,"#), text)
        XCTAssertTrue(text.contains(#""eventsByKind":{"combo":3,"danmaku":2,"gift":1}"#), text)
        XCTAssertFalse(text.contains("sampledAtMs"), "written only when the caller gives the sampling time")
        let sampled = String(decoding: RoomsDocument.render(statistics, sampledAt: 1_700_000_000_123), as: UTF8.self)
        XCTAssertTrue(sampled.hasSuffix(#"},"sampledAtMs":1700000000123}"#), sampled)
        XCTAssertTrue(flattened(Array(sampled.utf8)).contains("sampledAtMs=1700000000123"))
    }
}
