import DanmuClient
import EventLoop
import XCTest

@testable import DanmuRealtime

/// The WebSocket side of the hub: server frames decoded back with the client-role decoder, client frames made
/// with a masking encoder.
final class FanoutWebSocketTests: XCTestCase {
    /// Decodes everything the hub sent as a client would.
    func frames(_ output: RecordingOutput, _ reactor: Reactor) throws -> [WebSocketFrameDecoder.Event] {
        var decoder = WebSocketFrameDecoder(role: .client)
        return try decoder.feed(onLoop(reactor) { output.bytes })
    }

    func texts(_ events: [WebSocketFrameDecoder.Event]) -> [String] {
        events.compactMap { event in
            if case .message(.text, let payload) = event { return String(decoding: payload, as: UTF8.self) }
            return nil
        }
    }

    func read(_ hub: EventHub, _ id: SubscriberID, _ bytes: [UInt8]) {
        onLoop(hub.reactor) { bytes.withUnsafeBytes { hub.webSocketDidRead(id, $0) } }
    }

    var client = WebSocketFrameEncoder(masks: true)

    func testEventsAreTextMessagesOfTheJSONWithTheirIDFirst() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            let event = danmaku(3, "hello")
            publish(hub, [event, popularity(3, 5)])
            let messages = texts(try frames(output, reactor))
            XCTAssertEqual(messages.count, 2)
            XCTAssertEqual(messages.first, #"{"id":"77-1","# + jsonLine(event).dropFirst())
            XCTAssertTrue(messages.last?.hasPrefix(#"{"id":"77-2","room":3,"cmd":"HEARTBEAT_REPLY""#) ?? false)
            XCTAssertEqual(hub.statistics.webSocketSubscribers, 1)
        }
    }

    func testMaskedPingIsAnsweredWithAPongAndACloseWithAClose() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            let ping = client.encode(.ping, payload: Array("are you there".utf8))
            // Split in two reads: the decoder takes any split.
            read(hub, id, Array(ping[..<3]))
            read(hub, id, Array(ping[3...]))
            XCTAssertEqual(try frames(output, reactor), [.pong(Array("are you there".utf8))])
            onLoop(reactor) { output.reset() }
            var close: [UInt8] = []
            client.encodeClose(WebSocketClose(code: .normalClosure, reason: "bye"), into: &close)
            read(hub, id, close)
            XCTAssertEqual(try frames(output, reactor), [.close(WebSocketClose(code: .normalClosure))])
            XCTAssertEqual(onLoop(reactor) { output.closeCount }, 1)
            XCTAssertEqual(onLoop(reactor) { hub.subscriberCount }, 0)
            // Nothing reaches a closed subscriber.
            publish(hub, [danmaku(1, "after close")])
            XCTAssertEqual(try frames(output, reactor).count, 1)
        }
    }

    func testUnmaskedClientFrameClosesWith1002() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            var server = WebSocketFrameEncoder(masks: false)
            read(hub, id, server.encode(.text, payload: Array("{}".utf8)))
            let events = try frames(output, reactor)
            guard case .close(let close)? = events.last else { return XCTFail("no close frame: \(events)") }
            XCTAssertEqual(close.code, .protocolError)
            XCTAssertEqual(onLoop(reactor) { output.closeCount }, 1)
        }
    }

    func testOversizedClientMessageClosesWith1009() throws {
        try withHub(.init(maxClientMessageBytes: 100, epoch: 77)) { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            read(hub, id, client.encode(.text, payload: [UInt8](repeating: UInt8(ascii: " "), count: 200)))
            let events = try frames(output, reactor)
            guard case .close(let close)? = events.last else { return XCTFail("no close frame: \(events)") }
            XCTAssertEqual(close.code, .messageTooBig)
            XCTAssertEqual(onLoop(reactor) { output.closeCount }, 1)
        }
    }

    func testBinaryClientMessageClosesWith1003() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            read(hub, id, client.encode(.binary, payload: [1, 2, 3]))
            guard case .close(let close)? = try frames(output, reactor).last else { return XCTFail("no close") }
            XCTAssertEqual(close.code, .unsupportedData)
        }
    }

    func testSubscribeMessageChangesRoomsAndKinds() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            let id = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            read(hub, id, client.encode(.text, payload: Array(#"{"rooms":[2,1],"kinds":["danmaku"]}"#.utf8)))
            publish(hub, [danmaku(1, "a"), danmaku(3, "not this room"), popularity(2, 1), danmaku(2, "b")])
            let messages = texts(try frames(output, reactor))
            XCTAssertEqual(messages.first, #"{"type":"subscribed","rooms":[1,2],"kinds":["danmaku"]}"#)
            XCTAssertEqual(messages.count, 3)
            XCTAssertTrue(messages[1].hasPrefix(#"{"id":"77-1","room":1,"#))
            XCTAssertTrue(messages[2].hasPrefix(#"{"id":"77-4","room":2,"#))
            // A bad message is answered with an error and changes nothing.
            onLoop(reactor) { output.reset() }
            read(hub, id, client.encode(.text, payload: Array(#"{"kinds":["nope"]}"#.utf8)))
            publish(hub, [danmaku(1, "c")])
            let after = texts(try frames(output, reactor))
            XCTAssertEqual(after.count, 2)
            XCTAssertTrue(after[0].hasPrefix(#"{"type":"error","message":"bad kinds "#), after[0])
            XCTAssertTrue(after[1].hasPrefix(#"{"id":"77-5","room":1,"#))
            // Moving to another room takes it out of the old rooms' index.
            onLoop(reactor) { output.reset() }
            read(hub, id, client.encode(.text, payload: Array(#"{"rooms":[3]}"#.utf8)))
            publish(hub, [danmaku(1, "old room"), danmaku(2, "old room"), danmaku(3, "new room")])
            let moved = texts(try frames(output, reactor))
            XCTAssertEqual(moved.count, 2)
            XCTAssertEqual(moved.first, #"{"type":"subscribed","rooms":[3],"kinds":null}"#)
            XCTAssertTrue(moved.last?.hasPrefix(#"{"id":"77-8","room":3,"#) ?? false)
        }
    }

    func testResumeGapAndReplayAreMessagesAndSlowGapIsAMessage() throws {
        try withHub(.init(historyPerRoom: 2, subscriberQueueBytes: 500, epoch: 77)) { reactor, hub in
            publish(hub, [danmaku(4, "1"), danmaku(4, "2"), danmaku(4, "3")])
            let output = RecordingOutput()
            let id = onLoop(reactor) {
                hub.openWebSocket(Subscription(resumeAfter: EventID(epoch: 77, sequence: 0)), output: output)
            }
            var messages = texts(try frames(output, reactor))
            XCTAssertEqual(messages.count, 3)
            XCTAssertEqual(
                messages[0], #"{"type":"gap","reason":"history","missed":1,"rooms":[{"room":4,"missed":1}]}"#)
            XCTAssertTrue(messages[1].hasPrefix(#"{"id":"77-2","#))
            onLoop(reactor) {
                output.reset()
                output.pinnedPendingBytes = 1_000
            }
            publish(hub, [danmaku(4, "4"), danmaku(5, "5")])
            onLoop(reactor) {
                output.pinnedPendingBytes = 0
                hub.outputDidDrain(id)
            }
            messages = texts(try frames(output, reactor))
            XCTAssertEqual(
                messages,
                [#"{"type":"gap","reason":"slow","missed":2,"rooms":[{"room":4,"missed":1},{"room":5,"missed":1}]}"#])
        }
    }

    func testKeepAlivePingAndCloseWithGoingAway() throws {
        try withHub { reactor, hub in
            let output = RecordingOutput()
            _ = onLoop(reactor) { hub.openWebSocket(Subscription(), output: output) }
            onLoop(reactor) { hub.sendKeepAlives(now: reactor.now) }
            XCTAssertEqual(try frames(output, reactor), [.ping([])])
            hub.close()
            let events = try frames(output, reactor)
            XCTAssertEqual(events.count, 2)
            guard case .close(let close)? = events.last else { return XCTFail("no close frame") }
            XCTAssertEqual(close.code, .goingAway)
            XCTAssertEqual(onLoop(reactor) { output.closeCount }, 1)
        }
    }
}
