import EventLoop
import Synchronization
import XCTest

@testable import DanmuClient

/// Damage only a worker can see (corrupt compression, malformed JSON) handled per room, and guest masking.
final class CollectorCorruptDataTests: XCTestCase {
    func testCorruptZlibReconnectsRoomAndMalformedJSONIsSkippedAndCounted() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let auth = Packet.authReply(code: 0)
        let corruptZlib = Packet.encode(.message, protover: 2, sequence: 0, body: [0x78, 0x9C, 0xFF, 0xFE, 0x01, 0x02])
        let malformed = Packet.encode(.message, protover: 0, sequence: 0, body: Array(#"{"cmd":"#.utf8))
        let unknown = Packet.encode(.message, protover: 0, sequence: 0, body: Array(#"{"cmd":"TEST_ONLY"}"#.utf8))
        let server = ScriptedServer(reactor: reactor, scripts: [auth + corruptZlib, auth + malformed + unknown])
        let port = try server.listen()

        let unknownSeen = Atomic<Int>(0)
        let collector = try DanmuCollector(
            configuration: testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)))
        collector.setHandler(
            DanmuHandlers(event: { event in
                if case .unknown(let cmd, _) = event.event, cmd == "TEST_ONLY" {
                    unknownSeen.add(1, ordering: .relaxed)
                }
            }))
        try collector.start()
        collector.add(room: 42)
        XCTAssertTrue(waitUntil { unknownSeen.load(ordering: .relaxed) == 1 }, "\(collector.statistics().rooms)")
        let room = try XCTUnwrap(collector.statistics()[room: 42])
        XCTAssertEqual(room.protocolErrors, 1, "corrupt zlib closes that connection")
        guard case .protocolError? = room.lastError else { return XCTFail("\(String(describing: room.lastError))") }
        XCTAssertEqual(room.reconnects, 1)
        XCTAssertEqual(room.malformedMessages, 1, "malformed JSON is skipped and counted")
        XCTAssertEqual(room.phase, .live, "a malformed message alone does not drop the connection")
        XCTAssertEqual(server.accepted.load(ordering: .relaxed), 2)
        collector.shutdown()
    }

    func testLoginNoticeMarksGuestMaskedMode() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let notice = Packet.encode(
            .message, protover: 0, sequence: 0,
            body: Array(#"{"cmd":"LOG_IN_NOTICE","data":{"notice_msg":"guests see masked names"}}"#.utf8))
        let server = ScriptedServer(reactor: reactor, scripts: [Packet.authReply(code: 0) + notice])
        let port = try server.listen()
        let collector = try DanmuCollector(
            configuration: testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)))
        try collector.start()
        collector.add(room: 9)
        XCTAssertTrue(waitUntil { collector.statistics()[room: 9]?.maskedModeSeen == true })
        XCTAssertEqual(collector.statistics()[room: 9]?.eventsByKind[.loginNotice], 1)
        collector.shutdown()
    }

    func testRejectedAuthCodeIsCountedAndRetried() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let server = ScriptedServer(
            reactor: reactor, scripts: [Packet.authReply(code: -101), Packet.authReply(code: 0)])
        let port = try server.listen()
        let collector = try DanmuCollector(
            configuration: testCollectorConfiguration(server: .init(host: "127.0.0.1", port: port)))
        try collector.start()
        collector.add(room: 5)
        XCTAssertTrue(waitUntil { collector.statistics()[room: 5]?.phase == .live })
        let room = try XCTUnwrap(collector.statistics()[room: 5])
        XCTAssertEqual(room.lastError, .authRejected(code: -101))
        XCTAssertEqual(room.reconnects, 1)
        XCTAssertEqual(server.accepted.load(ordering: .relaxed), 2)
        collector.shutdown()
    }
}
