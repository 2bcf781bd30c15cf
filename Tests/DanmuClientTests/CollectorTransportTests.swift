import DanmuSimulator
import EventLoop
import Glibc
import TestSupport
import XCTest

@testable import DanmuClient

/// A simulator serving TCP, ws and (with certificates) wss.
final class SimulatorEndpoints {
    let reactor: Reactor
    let simulator: Simulator
    let addresses: SimulatorAddresses

    init(_ base: Simulator.Configuration, certificates: TestCertificates?) throws {
        var configuration = base
        configuration.webSocketListen = .loopback(port: 0)
        if let certificates {
            configuration.secureWebSocketListen = .loopback(port: 0)
            configuration.tlsCertificateFile = certificates.serverCertificate
            configuration.tlsKeyFile = certificates.serverKey
        }
        reactor = try Reactor()
        try reactor.start()
        simulator = Simulator(reactor: reactor, configuration: configuration)
        addresses = try simulator.startEndpoints()
    }

    /// `localhost` (in the test certificate) with the three ports.
    func server(host: String = "localhost") -> ServerAddress {
        .init(host: host, port: addresses.tcp.port, wsPort: addresses.ws?.port ?? 1, wssPort: addresses.wss?.port ?? 1)
    }

    func close() {
        simulator.stop()
        reactor.shutdown()
    }
}

/// The collector against the simulator's ws and wss endpoints, end to end on loopback: every room's sequence
/// complete and in order like the TCP tests; certificate checks; handshake faults judged and counted for the
/// room they hit; TLS session resumption across reconnects.
final class CollectorTransportTests: XCTestCase {
    private func configuration(
        _ endpoints: SimulatorEndpoints, transport: DanmuCollector.Configuration.Transport,
        certificates: TestCertificates?,
        host: String = "localhost"
    ) -> DanmuCollector.Configuration {
        var configuration = testCollectorConfiguration(server: endpoints.server(host: host))
        configuration.transport = transport
        configuration.timing.handshakeTimeout = .seconds(2 * sanitizerSlowdown)
        if let certificates { configuration.tls.verification = .caFile(certificates.caFile) }
        return configuration
    }

    /// 20 rooms × 200 danmaku over `transport`: every room gets 1...200 once, in order.
    private func runEveryRoomComplete(transport: DanmuCollector.Configuration.Transport) throws {
        let certificates = transport == .wss ? try TestCertificates() : nil
        defer { certificates?.remove() }
        let perRoom = 200
        let rooms = Int64(1)...20
        let endpoints = try SimulatorEndpoints(
            .init(rooms: .range(rooms), ratePerRoom: 400, messageLimitPerRoom: perRoom, batchSize: 5, mix: danmakuOnly),
            certificates: certificates)
        defer { endpoints.close() }
        let recorder = SequenceRecorder()
        let collector = try startCollector(
            configuration(endpoints, transport: transport, certificates: certificates), handler: recorder, rooms: rooms)
        let done = waitUntil(timeout: .seconds(60)) { rooms.allSatisfy { recorder.seqs($0).last == UInt64(perRoom) } }
        let statistics = collector.statistics()
        collector.shutdown()
        XCTAssertTrue(done, "unfinished: \(errorSummary(statistics))")
        for room in rooms {
            XCTAssertEqual(recorder.seqs(room), Array(1...UInt64(perRoom)), "room \(room)")
            XCTAssertEqual(statistics[room: room]?.transport, TransportStack.Kind(rawValue: transport.rawValue))
        }
        XCTAssertEqual(recorder.violations, 0)
        XCTAssertEqual(statistics.errors, 0, errorSummary(statistics))
        XCTAssertEqual(statistics.roomsByTransport, [TransportStack.Kind(rawValue: transport.rawValue)!: 20])
        XCTAssertEqual(endpoints.simulator.statistics().webSocketUpgrades, 20)
    }

    func testEveryRoomCompleteAndInOrderOverWS() throws { try runEveryRoomComplete(transport: .ws) }

    func testEveryRoomCompleteAndInOrderOverWSS() throws { try runEveryRoomComplete(transport: .wss) }

    /// The certificate is for localhost and 127.0.0.1; a room told the server is "wrong.localhost" must refuse
    /// it, say why, count it, and keep trying (never deliver).
    func testWSSWithWrongHostNameFailsWithTheVerificationReasonAndIsCounted() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let endpoints = try SimulatorEndpoints(
            .init(rooms: .range(1...2), ratePerRoom: 50, mix: danmakuOnly), certificates: certificates)
        defer { endpoints.close() }
        var settings = configuration(endpoints, transport: .wss, certificates: certificates)
        settings.tls.serverName = "wrong.example"
        let recorder = SequenceRecorder()
        let collector = try startCollector(settings, handler: recorder, rooms: [1])
        XCTAssertTrue(waitUntil { (collector.statistics()[room: 1]?.transportErrors ?? 0) >= 2 })
        let room = try XCTUnwrap(collector.statistics()[room: 1])
        collector.shutdown()
        guard case .transportFailed(let why)? = room.lastError else {
            return XCTFail("\(String(describing: room.lastError))")
        }
        XCTAssertTrue(why.contains("certificate rejected") && why.lowercased().contains("hostname mismatch"), why)
        XCTAssertEqual(room.authFailures, 0, "a refused certificate is not an auth failure")
        XCTAssertGreaterThanOrEqual(room.reconnects, 1)
        XCTAssertEqual(recorder.total, 0)
        XCTAssertEqual(endpoints.simulator.statistics().authsOK, 0)
    }

    /// Every connection of room 1 is closed after 5 messages; each reconnect offers the session of the last
    /// connection to the host, and the simulator's OpenSSL resumes it.
    func testTLSSessionResumedAcrossReconnects() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let endpoints = try SimulatorEndpoints(
            .init(
                rooms: .range(1...1), ratePerRoom: 200, messageLimitPerRoom: 15, mix: danmakuOnly,
                faults: [FaultRule(.closeAfter(messages: 5), rooms: .all)]),
            certificates: certificates)
        defer { endpoints.close() }
        let recorder = SequenceRecorder()
        let collector = try startCollector(
            configuration(endpoints, transport: .wss, certificates: certificates), handler: recorder, rooms: [1])
        XCTAssertTrue(waitUntil { recorder.seqs(1).last == 15 }, errorSummary(collector.statistics()))
        let room = try XCTUnwrap(collector.statistics()[room: 1])
        collector.shutdown()
        XCTAssertEqual(recorder.seqs(1), Array(1...15))
        XCTAssertGreaterThanOrEqual(room.connections, 3)
        XCTAssertGreaterThanOrEqual(room.tlsResumptions, room.connections - 1, "the 2nd and later connections resume")
        XCTAssertGreaterThanOrEqual(endpoints.simulator.statistics().tlsResumptions, 1, "the server saw them too")
        XCTAssertEqual(room.transportErrors, 0, errorSummary(collector.statistics()))
    }

    /// The simulator never answers the first ws upgrade: that room's handshake times out with a reason naming
    /// the stage, is counted as a transport error (not an auth failure), and reconnects; the other rooms are
    /// untouched and every room completes.
    func testStalledUpgradeTimesOutThatRoomOnly() throws {
        try runHandshakeFault(.stallUpgrade) { failure in
            XCTAssertEqual(failure, .handshakeTimeout("WebSocket upgrade"))
        }
    }

    /// A wrong Sec-WebSocket-Accept on the first upgrade: that room fails with the accept-key reason.
    func testWrongAcceptKeyReconnectsThatRoomOnly() throws {
        try runHandshakeFault(.badAccept) { failure in
            guard case .transportFailed(let why) = failure else { return XCTFail("\(failure)") }
            XCTAssertTrue(why.contains("wrong Sec-WebSocket-Accept"), why)
        }
    }

    private func runHandshakeFault(_ fault: HandshakeFaultRule.Fault, check: (RoomFailure) -> Void) throws {
        let rooms = Int64(1)...4
        let perRoom = 30
        var simulated = Simulator.Configuration(
            rooms: .range(rooms), ratePerRoom: 200, messageLimitPerRoom: perRoom, mix: danmakuOnly)
        simulated.handshakeFaults = [HandshakeFaultRule(fault, firstConnections: 1)]
        let endpoints = try SimulatorEndpoints(simulated, certificates: nil)
        defer { endpoints.close() }
        let recorder = SequenceRecorder()
        var settings = configuration(endpoints, transport: .ws, certificates: nil)
        settings.timing.handshakeTimeout = .milliseconds(500 * sanitizerSlowdown)
        let collector = try startCollector(settings, handler: recorder, rooms: rooms)
        let done = waitUntil(timeout: .seconds(30)) { rooms.allSatisfy { recorder.seqs($0).last == UInt64(perRoom) } }
        let statistics = collector.statistics()
        collector.shutdown()
        XCTAssertTrue(done, errorSummary(statistics))
        XCTAssertEqual(recorder.violations, 0)
        let hit = statistics.rooms.filter { $0.errors > 0 }
        XCTAssertEqual(hit.count, 1, "exactly one room is hit: \(errorSummary(statistics))")
        XCTAssertEqual(hit.first?.transportErrors, 1)
        XCTAssertEqual(hit.first?.authFailures, 0)
        XCTAssertEqual(hit.first?.reconnects, 1)
        if let failure = hit.first?.lastError { check(failure) }
        XCTAssertEqual(statistics.transportErrors, 1)
    }

    /// `auto`: a host that refuses raw TCP sends the room to wss after `autoFallbackAfterFailures` refusals, where
    /// it collects everything; the statistics say wss and count the fallback. A host whose TCP works stays TCP.
    func testAutoFallsBackToWSSWhenTCPIsRefusedAndStaysOnTCPOtherwise() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let perRoom = 30
        let endpoints = try SimulatorEndpoints(
            .init(rooms: .range(1...2), ratePerRoom: 200, messageLimitPerRoom: perRoom, mix: danmakuOnly),
            certificates: certificates)
        defer { endpoints.close() }
        // A loopback port nobody listens on: bound, read, closed.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(probe, pointer, length)
                _ = getsockname(probe, pointer, &length)
            }
        }
        close(probe)
        let refusedPort = UInt16(bigEndian: address.sin_port)

        for (tcpPort, expected) in [(refusedPort, TransportStack.Kind.wss), (endpoints.addresses.tcp.port, .tcp)] {
            var settings = configuration(endpoints, transport: .auto, certificates: certificates)
            settings.server?.port = tcpPort
            settings.autoFallbackAfterFailures = 2
            let recorder = SequenceRecorder()
            let collector = try DanmuCollector(configuration: settings)
            collector.setHandler(recorder)
            try collector.start()
            let room: Int64 = expected == .wss ? 1 : 2
            collector.add(room: room)
            let done = waitUntil { recorder.seqs(room).last == UInt64(perRoom) }
            let statistics = try XCTUnwrap(collector.statistics()[room: room])
            collector.shutdown()
            XCTAssertTrue(done, "\(expected): \(String(describing: statistics.lastError))")
            XCTAssertEqual(recorder.seqs(room), Array(1...UInt64(perRoom)))
            XCTAssertEqual(statistics.transport, expected)
            XCTAssertEqual(statistics.transportFallbacks, expected == .wss ? 1 : 0)
            XCTAssertEqual(statistics.errors, expected == .wss ? 2 : 0, "two refused TCP connects, then wss")
        }
    }

    /// Python's `websockets` client (not our code) against the simulator's ws and wss endpoints: AUTH, heartbeat
    /// reply, ping/pong, and 40 danmaku in order, each binary message holding whole packets.
    func testPythonWebsocketsClientAgainstTheSimulatorOverWSAndWSS() throws {
        try ReferenceServer.requirePython(module: "websockets")
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let endpoints = try SimulatorEndpoints(
            .init(rooms: .range(1...2), ratePerRoom: 50, messageLimitPerRoom: 40, mix: danmakuOnly),
            certificates: certificates)
        defer { endpoints.close() }
        let script = TestFiles.repositoryRoot + "/Scripts/ws_reference_client.py"
        let output = certificates.directory + "/client.out"
        let ws = "ws://localhost:\(endpoints.addresses.ws!.port)/sub"
        let wss = "wss://localhost:\(endpoints.addresses.wss!.port)/sub"
        for (room, arguments) in [(1, "'\(ws)' 1 40"), (2, "'\(wss)' 2 40 --ca '\(certificates.caFile)'")] {
            let status = system("timeout 60 python3 '\(script)' \(arguments) > '\(output)' 2>&1")
            let text = String(decoding: TestFiles.read(output) ?? [], as: UTF8.self)
            XCTAssertEqual(status, 0, "room \(room): \(text)")
            XCTAssertTrue(text.hasPrefix("OK 40 danmaku in order, heartbeat_reply=True"), text)
        }
        XCTAssertEqual(endpoints.simulator.statistics().webSocketUpgrades, 2)
    }

    /// A wss collector on a machine whose CA file does not exist: `init` says so (not every room later).
    func testUnusableCAFileFailsAtInit() {
        var settings = DanmuCollector.Configuration(server: .init(host: "127.0.0.1", port: 1))
        settings.transport = .wss
        settings.tls.verification = .caFile("/nonexistent/ca.pem")
        XCTAssertThrowsError(try DanmuCollector(configuration: settings)) { error in
            guard case CollectorError.tls(let tls) = error, case .caFileUnusable = tls.reason else {
                return XCTFail("\(error)")
            }
        }
    }
}

/// Frame-level faults of the simulator's ws endpoint after some messages: each bad frame reconnects only the
/// room it was sent to, with the framing reason counted; a ping storm is answered and costs nothing.
final class CollectorWebSocketFaultTests: XCTestCase {
    func testBadFramesReconnectTheirRoomWithTheReasonAndPingStormsAreHarmless() throws {
        let perRoom = 40
        let rooms = Int64(1)...10
        // Room k (1…5) gets fault k-1 on its first connection, after 10 messages; rooms 6…10 are clean.
        let kinds = WebSocketFrameFault.allCases
        let faults = kinds.enumerated().map { index, fault in
            FaultRule(.webSocketFrame(fault, afterMessages: 10), rooms: .rooms([Int64(index) + 1]), firstConnections: 1)
        }
        let endpoints = try SimulatorEndpoints(
            .init(
                rooms: .range(rooms), ratePerRoom: 200, messageLimitPerRoom: perRoom, batchSize: 2, mix: danmakuOnly,
                faults: faults),
            certificates: nil)
        defer { endpoints.close() }
        var settings = testCollectorConfiguration(server: endpoints.server())
        settings.transport = .ws
        let recorder = SequenceRecorder()
        let collector = try startCollector(settings, handler: recorder, rooms: rooms)
        let done = waitUntil(timeout: .seconds(30)) { rooms.allSatisfy { recorder.seqs($0).last == UInt64(perRoom) } }
        let statistics = collector.statistics()
        collector.shutdown()
        XCTAssertTrue(done, errorSummary(statistics))
        XCTAssertEqual(recorder.violations, 0)
        let expected: [WebSocketFrameFault: String] = [
            .oversize: "exceeds the", .masked: "masked frame from the server", .badClose: "invalid close code 1005",
        ]
        for (index, fault) in kinds.enumerated() {
            let room = try XCTUnwrap(statistics[room: Int64(index) + 1])
            XCTAssertEqual(
                recorder.seqs(room.room), Array(1...UInt64(perRoom)), "\(fault): every message once, in order")
            switch fault {
            case .pingStorm:
                XCTAssertEqual(room.errors, 0, "\(fault): \(String(describing: room.lastError))")
            case .closeMidMessage:
                XCTAssertEqual(room.errors, 1, "\(fault)")
                // The simulator's close frame carries 1001 (going away); the room's error names it.
                XCTAssertEqual(
                    room.lastError, .webSocketClosed(code: 1001, reason: "", beforeAuth: false), "\(fault)")
            default:
                XCTAssertEqual(room.transportErrors, 1, "\(fault)")
                guard case .transportFailed(let why)? = room.lastError else {
                    XCTFail("\(fault): \(String(describing: room.lastError))")
                    continue
                }
                XCTAssertTrue(why.contains(expected[fault]!), "\(fault): \(why)")
            }
        }
        for room in Int64(6)...10 { XCTAssertEqual(statistics[room: room]?.errors, 0, "room \(room) untouched") }
    }
}
