import EventLoop
import XCTest
@testable import DanmuClient
@testable import DanmuSimulator

/// The simulator's HTTP request parser and routes, and its WBI check, without curl.
final class SimulatorHTTPAPITests: XCTestCase {
    private func parse(_ text: String) -> SimulatorHTTPRequest.ParseResult {
        SimulatorHTTPRequest.parse(Array(text.utf8))
    }

    func testRequestHeadIsParsedAndQueryDecoded() throws {
        XCTAssertEqual(parse("GET /x HTTP/1.1\r\nHost: a\r\n"), .incomplete)
        guard
            case .complete(let request) = parse(
                "GET /room/v1/Room/room_init?id=76&name=%E5%BC%B9+x&flag HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Cookie: SESSDATA=42; buvid3=b\r\n\r\n")
        else { return XCTFail("not parsed") }
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.path, "/room/v1/Room/room_init")
        XCTAssertEqual(request.query.map { $0.0 }, ["id", "name", "flag"])
        XCTAssertEqual(request.query.map { $0.1 }, ["76", "弹 x", ""])
        XCTAssertEqual(request.header("COOKIE"), "SESSDATA=42; buvid3=b")
    }

    func testBadRequestsAreInvalid() {
        for bad in [
            "GARBAGE\r\n\r\n", "GET /x?a=%G1 HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        ] {
            guard case .invalid = parse(bad) else { return XCTFail("accepted \(bad.debugDescription)") }
        }
    }

    func testRoutesAnswerTheSiteShapes() throws {
        let reactor = try Reactor()
        let site = SimulatedSite(rooms: .range(1...10))
        let addresses = SimulatorAddresses(tcp: .loopback(port: 2243), ws: .loopback(port: 2244), wss: nil)
        let api = SimulatorHTTPAPI(reactor: reactor, site: site, addresses: addresses)
        func answer(_ head: String) -> (Int, String) {
            guard case .complete(let request) = parse(head + " HTTP/1.1\r\n\r\n") else { return (0, "") }
            let (status, body) = api.respond(to: request)
            return (status, String(decoding: body, as: UTF8.self))
        }
        XCTAssertEqual(answer("GET /nope").0, 404)
        XCTAssertEqual(answer("POST /x/web-interface/nav").0, 405)
        let (_, missing) = answer("GET /room/v1/Room/room_init?id=99")
        XCTAssertTrue(missing.hasPrefix(#"{"code":60004"#), missing)
        let (_, spi) = answer("GET /x/frontend/finger/spi")
        XCTAssertTrue(spi.contains(#""b_3":"#) && spi.contains(#""b_4":"#), spi)
        let (_, nav) = answer("GET /x/web-interface/nav")
        XCTAssertTrue(nav.hasPrefix(#"{"code":-101"#) && nav.contains(site.currentSigner.imgKey), nav)
        let query = site.currentSigner.signedQuery([("id", "3"), ("type", "0")], wts: 1_700_000_000)
        let (_, info) = answer("GET /xlive/web-room/v1/index/getDanmuInfo?" + query)
        XCTAssertTrue(info.contains(#""host":"127.0.0.1","port":2243,"ws_port":2244"#), info)
        site.rotateWBIKeys()
        let (_, stale) = answer("GET /xlive/web-room/v1/index/getDanmuInfo?" + query)
        XCTAssertTrue(stale.hasPrefix(#"{"code":-352"#), stale)
        XCTAssertEqual(answer("GET /sim/live?room=3&live=0").0, 200)
        XCTAssertFalse(site.liveRooms.contains(3))
        let (_, offline) = answer("GET /room/v1/Room/room_init?id=3")
        XCTAssertTrue(offline.contains(#""live_status":0"#), offline)
    }
}
