import Synchronization
import TestSupport
import XCTest
@testable import DanmuClient

final class ResolverTests: XCTestCase {
    static let nav = #"""
        {"code":-101,"message":"账号未登录","ttl":1,"data":{"isLogin":false,"wbi_img":{
        "img_url":"https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
        "sub_url":"https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"}}}
        """#
    static let navLoggedIn = #"""
        {"code":0,"message":"0","ttl":1,"data":{"isLogin":true,"mid":"160148624","wbi_img":{
        "img_url":"https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
        "sub_url":"https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"}}}
        """#
    static let spi = #"{"code":0,"message":"ok","data":{"b_3":"SPI-B3-infoc","b_4":"B4"}}"#
    static let risk = #"{"code":-352,"message":"-352","ttl":1}"#
    static let html = "<!DOCTYPE html><html><body>risk</body></html>"

    private func routes(danmuInfo: [StubHTTPServer.Answer]) -> [String: [StubHTTPServer.Answer]] {
        [
            "/room/v1/Room/room_init": [
                .init(body: TestFiles.mustRead("Fixtures/samples/http_room_init.response.bac-doc.json"))
            ],
            "/x/web-interface/nav": [.json(Self.nav)],
            "/x/frontend/finger/spi": [.json(Self.spi)],
            "/xlive/web-room/v1/index/getDanmuInfo": danmuInfo,
        ]
    }

    private static let danmuInfoOK = StubHTTPServer.Answer(
        body: TestFiles.mustRead("Fixtures/samples/http_getDanmuInfo.response.bac-doc.json"))

    private func configuration(_ server: StubHTTPServer, warnings: WarningLog? = nil) -> RoomResolver.Configuration {
        var configuration = RoomResolver.Configuration()
        configuration.liveAPIBase = server.baseURL
        configuration.mainAPIBase = server.baseURL
        configuration.minimumInterval = .zero
        configuration.initialBackoff = .milliseconds(1)
        configuration.timeoutSeconds = 5
        configuration.userAgent = "DanmuTest/1"
        if let warnings { configuration.onWarning = { warning in warnings.items.withLock { $0.append(warning) } } }
        return configuration
    }

    func testShortIDResolvesToTokenAndHostsWithSignedRequest() throws {
        let server = StubHTTPServer(routes: routes(danmuInfo: [Self.danmuInfoOK]))
        defer { server.stop() }
        let warnings = WarningLog()
        let resolver = RoomResolver(configuration: configuration(server, warnings: warnings))
        let endpoint = try resolver.resolve(room: 76)
        XCTAssertEqual(endpoint.roomID, 14_073_662)
        XCTAssertEqual(endpoint.requestedID, 76)
        XCTAssertEqual(endpoint.token?.hasPrefix("gZ2Pp2T4rIc2HfD0e53FHhQAwKWjb6"), true)
        XCTAssertEqual(
            endpoint.servers.map { $0.host },
            [
                "zj-cn-live-comet.chat.bilibili.com", "zj-cn-live-comet.chat.bilibili.com",
                "bd-sz-live-comet-14.chat.bilibili.com", "bd-bj-live-comet-09.chat.bilibili.com",
                "broadcastlv.chat.bilibili.com",
            ])
        XCTAssertEqual(endpoint.servers[0].port, 2243)
        XCTAssertEqual(endpoint.servers[0].wssPort, 2245)
        XCTAssertEqual(endpoint.uid, 0)
        XCTAssertEqual(endpoint.buvid, "SPI-B3-infoc")
        XCTAssertEqual(warnings.items.withLock { $0 }, [.guest])

        let info = try XCTUnwrap(server.requests(to: "/xlive/web-room/v1/index/getDanmuInfo").first)
        let query = info.query
        XCTAssertEqual(query["id"], "14073662")
        XCTAssertEqual(query["type"], "0")
        XCTAssertEqual(info.headers["cookie"], "buvid3=SPI-B3-infoc; buvid4=B4", "finger/spi's b_4 is kept and sent")
        // buvid first: room_init already carries it, as a browser's request would.
        XCTAssertEqual(server.requests.first?.path, "/x/frontend/finger/spi")
        XCTAssertEqual(
            server.requests(to: "/room/v1/Room/room_init").first?.headers["cookie"], "buvid3=SPI-B3-infoc; buvid4=B4")
        XCTAssertEqual(info.headers["user-agent"], "DanmuTest/1")
        // Recompute the signature from the received parameters.
        let signer = try XCTUnwrap(
            WBISigner(imgKey: "7cd084941338484aae1ad9425b84077c", subKey: "4932caff0ff746eab6f01bf08b70ac45"))
        let wts = try XCTUnwrap(Int64(query["wts"] ?? ""))
        let expected = signer.signedQuery([("id", "14073662"), ("type", "0"), ("web_location", "444.8")], wts: wts)
        XCTAssertEqual(String(info.target.split(separator: "?")[1]), expected)

        // Cached: a second resolve sends no request; invalidating the token refetches only getDanmuInfo.
        let before = server.requests.count
        XCTAssertEqual(try resolver.resolve(room: 76), endpoint)
        XCTAssertEqual(server.requests.count, before)
        resolver.invalidateToken(room: 76)
        _ = try resolver.resolve(room: 76)
        XCTAssertEqual(server.requests.map { $0.path }.dropFirst(before), ["/xlive/web-room/v1/index/getDanmuInfo"])
    }

    func testRiskControlRetriesWithFreshKeys() throws {
        let server = StubHTTPServer(routes: routes(danmuInfo: [.json(Self.risk), Self.danmuInfoOK]))
        defer { server.stop() }
        let endpoint = try RoomResolver(configuration: configuration(server)).resolve(room: 14_073_662)
        XCTAssertNotNil(endpoint.token)
        XCTAssertNil(endpoint.requestedID)
        XCTAssertEqual(server.requests(to: "/xlive/web-room/v1/index/getDanmuInfo").count, 2)
        XCTAssertEqual(server.requests(to: "/x/web-interface/nav").count, 2, "keys are re-fetched after -352")
    }

    func testHTMLAnswersFallBackKeylessAndWarnOnce() throws {
        let server = StubHTTPServer(routes: routes(danmuInfo: [.html(Self.html)]))
        defer { server.stop() }
        let warnings = WarningLog()
        var keyless = configuration(server, warnings: warnings)
        keyless.allowKeylessFallback = true  // issue 16: an explicit mode now
        let resolver = RoomResolver(configuration: keyless)
        let first = try resolver.resolve(room: 76)
        let second = try resolver.resolve(room: 76)
        XCTAssertNil(first.token)
        XCTAssertEqual(first.servers, [ServerAddress.broadcastlv])
        XCTAssertTrue(first.isDegraded)
        XCTAssertEqual(first.authBody().key, "")
        XCTAssertNil(second.token)
        XCTAssertEqual(resolver.keylessFallbackCount, 2)
        let seen = warnings.items.withLock { $0 }
        XCTAssertEqual(seen.count, 2, "\(seen)")  // .guest + one .keyless
        guard case .keyless(let room, let reason) = seen[1] else { return XCTFail("\(seen)") }
        XCTAssertEqual(room, 14_073_662)
        XCTAssertTrue(reason.contains("not JSON"), reason)
    }

    func testRiskControlWithoutFallbackIsAClearError() {
        let server = StubHTTPServer(routes: routes(danmuInfo: [.json(Self.risk)]))
        defer { server.stop() }
        let configuration = configuration(server)
        XCTAssertFalse(configuration.allowKeylessFallback, "issue 16: no key-less fallback unless asked for")
        XCTAssertThrowsError(try RoomResolver(configuration: configuration).resolve(room: 76)) { error in
            guard case .riskControl = error as? ResolveError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("-352"))
        }
        XCTAssertEqual(server.requests(to: "/xlive/web-room/v1/index/getDanmuInfo").count, 3)
    }

    func testMissingRoomIsNotFound() {
        let server = StubHTTPServer(routes: [
            "/room/v1/Room/room_init": [.json(#"{"code":60004,"msg":"直播间不存在","message":"直播间不存在","data":[]}"#)]
        ])
        defer { server.stop() }
        XCTAssertThrowsError(try RoomResolver(configuration: configuration(server)).resolve(room: 999)) {
            XCTAssertEqual($0 as? ResolveError, .roomNotFound(999))
        }
    }

    func testHTMLOnRoomInitIsRetriedThenReported() {
        let server = StubHTTPServer(routes: ["/room/v1/Room/room_init": [.html(Self.html)]])
        defer { server.stop() }
        XCTAssertThrowsError(try RoomResolver(configuration: configuration(server)).resolve(room: 76)) {
            guard case .notJSON(_, let status, let snippet) = $0 as? ResolveError else { return XCTFail("\($0)") }
            XCTAssertEqual(status, 200)
            XCTAssertTrue(snippet.hasPrefix("<!DOCTYPE"))
        }
        XCTAssertEqual(server.requests(to: "/room/v1/Room/room_init").count, 3)
    }

    func testLoginCookieGivesUIDAndBuvidWithoutSPI() throws {
        var table = routes(danmuInfo: [Self.danmuInfoOK])
        table["/x/web-interface/nav"] = [.json(Self.navLoggedIn)]
        let server = StubHTTPServer(routes: table)
        defer { server.stop() }
        let warnings = WarningLog()
        var configuration = configuration(server, warnings: warnings)
        configuration.cookie = "SESSDATA=abc%2C123; buvid3=COOKIE-B3infoc"
        let endpoint = try RoomResolver(configuration: configuration).resolve(room: 76)
        XCTAssertEqual(endpoint.uid, 160_148_624)
        XCTAssertEqual(endpoint.buvid, "COOKIE-B3infoc")
        XCTAssertTrue(server.requests(to: "/x/frontend/finger/spi").isEmpty)
        XCTAssertEqual(
            server.requests(to: "/xlive/web-room/v1/index/getDanmuInfo").first?.headers["cookie"],
            "SESSDATA=abc%2C123; buvid3=COOKIE-B3infoc")
        XCTAssertEqual(warnings.items.withLock { $0 }, [])
        XCTAssertEqual(endpoint.authBody(protover: 2).protover, 2)
    }

    func testFabricatedBuvidWhenSPIFails() throws {
        var table = routes(danmuInfo: [Self.danmuInfoOK])
        table["/x/frontend/finger/spi"] = [.html(Self.html)]
        let server = StubHTTPServer(routes: table)
        defer { server.stop() }
        let endpoint = try RoomResolver(configuration: configuration(server)).resolve(room: 76)
        let parts = endpoint.buvid.split(separator: "-")
        XCTAssertEqual(parts.map { $0.count }, [8, 4, 4, 4, 17])
        XCTAssertTrue(endpoint.buvid.hasSuffix("infoc"))
    }

    /// A made-up buvid3 is not kept forever: once `buvidRetryInterval` has passed, finger/spi is asked again
    /// and its answer (with b_4) replaces it.
    func testFabricatedBuvidIsReplacedWhenSPIRecovers() throws {
        var table = routes(danmuInfo: [Self.danmuInfoOK])
        table["/x/frontend/finger/spi"] = [.html(Self.html), .json(Self.spi)]
        let server = StubHTTPServer(routes: table)
        defer { server.stop() }
        var settings = configuration(server)
        settings.buvidRetryInterval = .zero
        let resolver = RoomResolver(configuration: settings)
        let first = try resolver.resolve(room: 76)
        XCTAssertNotEqual(first.buvid, "SPI-B3-infoc")
        XCTAssertTrue(resolver.currentBuvid.fabricated)
        resolver.invalidateToken(room: 76)
        let second = try resolver.resolve(room: 76)
        XCTAssertEqual(second.buvid, "SPI-B3-infoc")
        XCTAssertEqual(resolver.currentBuvid.buvid4, "B4")
        XCTAssertFalse(resolver.currentBuvid.fabricated)
        XCTAssertEqual(server.requests(to: "/x/frontend/finger/spi").count, 2)
    }
}

final class WarningLog: Sendable {
    let items = Mutex<[ResolverWarning]>([])
}
