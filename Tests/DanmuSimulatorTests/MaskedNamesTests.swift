import DanmuClient
import Glibc
import TestSupport
import XCTest

@testable import DanmuSimulator

/// Issue 16: as on the live site, a guest (AUTH without a logged-in uid) sees DANMU_MSG with uid 0 and masked
/// names (`孤***`); a connection with a uid sees the real ones. Broadcast delivery encodes each variant once per
/// room, and both variants carry the same messages (same id_str sequence).
final class MaskedNamesTests: XCTestCase {
    private func configuration(delivery: Delivery, masks: Bool? = true) -> Simulator.Configuration {
        var configuration = Simulator.Configuration(
            rooms: .range(1...4), ratePerRoom: 200, messageLimitPerRoom: 60, mix: .danmakuOnly)
        configuration.delivery = delivery
        configuration.masksGuestNames = masks
        return configuration
    }

    private func auth(_ client: TestClient, room: Int64, uid: Int64) {
        client.sendRaw(Packet.auth(AuthBody(uid: uid, roomID: room, protover: 2, key: "", buvid: "test-buvid")))
    }

    private func danmaku(_ client: TestClient, count: Int) throws -> [DecodedDanmaku] {
        try client.readMessages(count, timeout: 15).compactMap(\.danmaku)
    }

    func testMaskedNameKeepsTheFirstCharacter() {
        XCTAssertEqual(DanmakuTemplate.maskedName("孤丶独の观测者"), "孤***")
        XCTAssertEqual(DanmakuTemplate.maskedName("simulated_user"), "s***")
        XCTAssertEqual(DanmakuTemplate.maskedName("***"), "***")
        XCTAssertEqual(DanmakuTemplate.maskedName(""), "***")
    }

    func testTemplateMaskedVariantHasUidZeroEverywhere() throws {
        let template = DanmakuTemplate(texts: ["hi"], users: [(3_546_571_385_866_489, "孤丶独の观测者")])
        var plain: [UInt8] = []
        var masked: [UInt8] = []
        template.append(room: 5, seq: 1, monotonicNs: 7, unixMs: 1000, into: &plain)
        template.append(room: 5, seq: 1, monotonicNs: 7, unixMs: 1000, masked: true, into: &masked)
        let real = try DecodedDanmaku(body: plain)
        let guest = try DecodedDanmaku(body: masked)  // also checks info[0][15].user.uid == info[2][0]
        XCTAssertEqual(real.uid, 3_546_571_385_866_489)
        XCTAssertEqual(real.uname, "孤丶独の观测者")
        XCTAssertEqual(guest.uid, 0)
        XCTAssertEqual(guest.uname, "孤***")
        XCTAssertEqual(guest.idStr, real.idStr)
        XCTAssertFalse(String(decoding: masked, as: UTF8.self).contains("孤丶独の观测者"), "no real name anywhere")
        // The client library reads it as a masked danmaku.
        var events: [DanmuEvent] = []
        try EventParser.parse(message: masked, into: &events)
        guard case .danmaku(let d) = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(d.uid, 0)
        XCTAssertTrue(d.isNameMasked)
    }

    /// One connection per message and broadcast: a guest and a logged-in connection of the same room.
    func testGuestSeesMaskedNamesAndALoggedInConnectionTheRealOnes() throws {
        for delivery in [Delivery.everyConnection, .oneConnection] {
            try withSimulator(configuration(delivery: delivery)) { _, port in
                let guest = try TestClient(port: port)
                let member = try TestClient(port: port)
                auth(guest, room: 2, uid: 0)
                auth(member, room: delivery == .everyConnection ? 2 : 3, uid: 4242)
                let seen = try danmaku(guest, count: 20)
                let real = try danmaku(member, count: 20)
                XCTAssertGreaterThanOrEqual(seen.count, 20, "\(delivery)")
                XCTAssertGreaterThanOrEqual(real.count, 20, "\(delivery)")
                XCTAssertTrue(seen.allSatisfy { $0.uid == 0 }, "\(delivery): guests see uid 0")
                XCTAssertTrue(seen.allSatisfy { $0.uname.hasSuffix("***") }, "\(delivery): \(seen.map(\.uname))")
                XCTAssertTrue(seen.contains { $0.uname.count > 3 }, "x*** keeps the first character")
                XCTAssertTrue(real.contains { $0.uid != 0 }, "\(delivery): \(real.map(\.uid))")
                XCTAssertTrue(real.contains { $0.uname == "孤丶独の观测者" || $0.uname == "哦豁wylzz" })
                if delivery == .everyConnection {
                    // One emission, two variants: where both have a message, it is the same message.
                    let realIDs = Dictionary(real.map { ($0.id.seq, $0.idStr) }, uniquingKeysWith: { a, _ in a })
                    let common = seen.filter { realIDs[$0.id.seq] != nil }
                    XCTAssertFalse(common.isEmpty)
                    for message in common { XCTAssertEqual(message.idStr, realIDs[message.id.seq]) }
                    XCTAssertEqual(Set(seen.map(\.id.seq)).count, seen.count, "no repeats")
                }
            }
        }
    }

    /// Off (and by default without the HTTP API): guests see the real names, as before.
    func testOffByDefaultWithoutTheHTTPAPI() throws {
        XCTAssertFalse(SimulatorCore.resolveMasking(configuration(delivery: .everyConnection, masks: nil)))
        var withSite = configuration(delivery: .everyConnection, masks: nil)
        withSite.httpAPIListen = .loopback(port: 0)
        XCTAssertTrue(SimulatorCore.resolveMasking(withSite))
        try withSimulator(configuration(delivery: .everyConnection, masks: false)) { _, port in
            let guest = try TestClient(port: port)
            auth(guest, room: 1, uid: 0)
            let seen = try danmaku(guest, count: 20)
            XCTAssertTrue(seen.contains { $0.uid != 0 && !$0.uname.hasSuffix("***") })
        }
    }
}
