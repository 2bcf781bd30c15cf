import EventLoop
import XCTest
@testable import DanmuClient
@testable import DanmuSimulator

/// `RoomResolver` (through the real `curl` binary, as in production) against the simulator's HTTP API on
/// loopback: finger/spi before room_init, buvid4 kept, short ids, WBI-checked getDanmuInfo whose tokens the
/// simulator's AUTH accepts, a -352 after a key rotation retried after a new nav, nav's mid, the room list.
final class ResolverSimulatedSiteTests: XCTestCase {
    private var reactor: Reactor!
    private var simulator: Simulator!
    private var addresses: SimulatorAddresses!

    private func start(_ site: SimulatedSite.Configuration = .init(), rooms: RoomSet = .range(1...100)) throws {
        XCTAssertEqual(access("/usr/bin/curl", X_OK), 0, "curl is missing: run Scripts/ensure-test-deps.sh")
        reactor = try Reactor()
        try reactor.start()
        var configuration = Simulator.Configuration(rooms: rooms, ratePerRoom: 1)
        configuration.httpAPIListen = .loopback(port: 0)
        configuration.site = site
        simulator = Simulator(reactor: reactor, configuration: configuration)
        addresses = try simulator.startEndpoints()
    }

    override func tearDown() {
        simulator?.stop()
        reactor?.shutdown()
    }

    private func resolver(cookie: String? = nil, log: Lock<[String]>? = nil) throws -> RoomResolver {
        let api = try XCTUnwrap(addresses.httpAPI)
        var configuration = RoomResolver.Configuration()
        configuration.liveAPIBase = "http://\(api)"
        configuration.mainAPIBase = "http://\(api)"
        configuration.minimumInterval = .zero
        configuration.initialBackoff = .milliseconds(5)
        configuration.allowKeylessFallback = false
        configuration.cookie = cookie
        if let log { configuration.onLog = { line in log.withLock { $0.append(line) } } }
        return RoomResolver(configuration: configuration)
    }

    func testShortIDResolvesToATokenTheSimulatorAccepts() throws {
        var site = SimulatedSite.Configuration()
        site.shortIDs = [76: 7]
        try start(site)
        let resolver = try resolver()
        let endpoint = try resolver.resolve(room: 76)
        XCTAssertEqual(endpoint.roomID, 7)
        XCTAssertEqual(endpoint.requestedID, 76)
        let token = try XCTUnwrap(endpoint.token)
        XCTAssertTrue(token.hasPrefix("sim-token-7-"), token)
        XCTAssertEqual(endpoint.servers.first, ServerAddress(host: "127.0.0.1", port: addresses.tcp.port))
        XCTAssertTrue(simulator.site!.accepts(token: token, room: 7))
        XCTAssertFalse(simulator.site!.accepts(token: token, room: 8), "a token opens only its own room")
        XCTAssertFalse(simulator.site!.accepts(token: "made-up", room: 7))
        let buvid = resolver.currentBuvid
        XCTAssertFalse(buvid.fabricated, "finger/spi answered: the buvid3 is the site's")
        XCTAssertTrue(buvid.buvid3?.hasSuffix("infoc") ?? false, "\(buvid)")
        XCTAssertNotNil(buvid.buvid4, "b_4 is kept")
        XCTAssertEqual(endpoint.buvid, buvid.buvid3)
        XCTAssertEqual(endpoint.uid, 0, "no cookie: a guest")
    }

    func testUnknownRoomIsNotFound() throws {
        try start()
        let resolver = try resolver()
        do throws(ResolveError) {
            let endpoint = try resolver.resolve(room: 5000)
            XCTFail("resolved an unknown room: \(endpoint)")
        } catch {
            XCTAssertEqual(error, .roomNotFound(5000))
        }
    }

    func testRotatedKeysAreRetriedAfterANewNav() throws {
        var site = SimulatedSite.Configuration()
        site.rotateWBIKeysAfterNavs = 1
        try start(site)
        let log = Lock<[String]>([])
        let endpoint = try resolver(log: log).resolve(room: 3)
        XCTAssertNotNil(endpoint.token)
        XCTAssertEqual(simulator.site!.riskControlAnswers, 1, "the first signature used the rotated-away keys")
        let lines = log.withLock { $0 }
        XCTAssertTrue(lines.contains { $0.contains("code -352") && $0.contains("WBI keys dropped") }, "\(lines)")
    }

    func testUnsignedOrBadlySignedDanmuInfoIsRiskControl() throws {
        try start()
        let site = simulator.site!
        let unsigned = String(decoding: site.danmuInfo([("id", "3")], addresses: addresses), as: UTF8.self)
        XCTAssertTrue(unsigned.hasPrefix(#"{"code":-352"#), unsigned)
        let wrong = WBISigner(imgKey: String(repeating: "a", count: 32), subKey: String(repeating: "b", count: 32))!
        let bad = parse(wrong.signedQuery([("id", "3")], wts: 1_700_000_000))
        XCTAssertTrue(String(decoding: site.danmuInfo(bad, addresses: addresses), as: UTF8.self).contains("-352"))
        let good = parse(site.currentSigner.signedQuery([("id", "3")], wts: 1_700_000_000))
        XCTAssertTrue(
            String(decoding: site.danmuInfo(good, addresses: addresses), as: UTF8.self).hasPrefix(#"{"code":0"#))
        XCTAssertEqual(site.riskControlAnswers, 2)
    }

    func testSessdataCookieGivesNavMidAsUID() throws {
        try start()
        let endpoint = try resolver(cookie: "SESSDATA=4242abc; bili_jct=x").resolve(room: 1)
        XCTAssertEqual(endpoint.uid, 4242)
    }

    func testRoomListPagesByPopularityAndFiltersByArea() throws {
        try start()
        let resolver = try resolver()
        let top: [LiveRoomListing] = try resolver.liveRooms(top: 45)
        XCTAssertEqual(top.map { $0.roomID }, Array(1...45), "most popular first, across two pages of 30")
        XCTAssertEqual(top.map { $0.online }, top.map { $0.online }.sorted(by: >))
        let odd: [LiveRoomListing] = try resolver.liveRooms(top: 1000, parentAreaID: 2)
        XCTAssertEqual(odd.map { $0.roomID }, Array(stride(from: 1, through: 99, by: 2)))
        simulator.site!.setLive(1, false)
        simulator.site!.setLive(2, false)
        let after: [LiveRoomListing] = try resolver.liveRooms(top: 3)
        XCTAssertEqual(after.map { $0.roomID }, [3, 4, 5], "offline rooms are not listed")
    }

    /// Decoded pairs of a query string as the simulator's parser sees them.
    private func parse(_ query: String) -> [(String, String)] {
        guard case .complete(let request) = SimulatorHTTPRequest.parse(Array("GET /?\(query) HTTP/1.1\r\n\r\n".utf8))
        else { return [] }
        return request.query
    }
}
