import DanmuPipeline
import EventLoop
import TestSupport
import XCTest

/// `RedisCommandClient` on a real 3-master Redis Cluster: key slots as the cluster computes them, `MOVED`
/// followed and remembered, `ASK` during a slot migration followed without touching the map, a batch over
/// several masters split and reassembled in order, and a redirection loop ending in an error.
final class RedisClusterRoutingTests: XCTestCase {
    var cluster: RedisClusterTestServer!
    var reactor: Reactor!

    override func setUpWithError() throws {
        do {
            cluster = try RedisClusterTestServer()
        } catch {
            XCTFail("\(error)")
            throw error
        }
        reactor = try Reactor()
        try reactor.start()
    }

    override func tearDown() {
        reactor?.shutdown()
        cluster?.stop()
    }

    private func client(_ master: Int) throws -> RedisCommandClient {
        RedisCommandClient(url: try RedisURL(parsing: cluster.url(master)), reactor: reactor)
    }

    func testKeySlotsMatchRedisCLI() {
        let keys = [
            "danmu", "{danmu}:rooms", "{danmu}:lease:42", "somekey", "foo{hash_tag}", "a{}b", "{}danmu", "{{danmu}",
            "x}{danmu}", "danmu:sink:{danmu}:stream:last-batch", "弹幕", "",
        ]
        for key in keys {
            let answer = cluster.cli(0, ["cluster", "keyslot", key]).split(separator: "\n").first.map(String.init)
            XCTAssertEqual(answer, String(RedisKeySlot.slot(of: key)), "key \"\(key)\"")
        }
    }

    func testMovedIsFollowedAndTheSlotRemembered() throws {
        let slot = RedisKeySlot.slot(of: "danmu")
        let owner = try XCTUnwrap(cluster.owner(ofSlot: slot))
        let other = (owner + 1) % 3
        XCTAssertTrue(cluster.cli(other, ["get", "{danmu}:x"]).hasPrefix("MOVED"), "the other master redirects")
        let client = try client(other)
        defer { client.close() }
        XCTAssertEqual(try client.run(["SET", "{danmu}:x", "1"]), .simpleString("OK"))
        XCTAssertEqual(client.learntNode(forSlot: slot)?.port, cluster.ports[owner])
        XCTAssertEqual(try client.run(["GET", "{danmu}:x"]), .bulkString(Array("1".utf8)))
        XCTAssertEqual(cluster.cli(owner, ["get", "{danmu}:x"]), "1\n", "written on the slot's owner")
        // A transaction sent to the wrong master is redirected whole (that master answered EXECABORT).
        let fresh = try self.client(other)
        defer { fresh.close() }
        let transaction = try fresh.run([["MULTI"], ["INCR", "{danmu}:n"], ["INCR", "{danmu}:n"], ["EXEC"]])
        XCTAssertEqual(
            transaction,
            [
                .simpleString("OK"), .simpleString("QUEUED"), .simpleString("QUEUED"),
                .array([.integer(1), .integer(2)]),
            ])
        // A script is routed by its first key, and NOSCRIPT still reaches the caller from the right node.
        let eval = try client.run(["EVAL", "return redis.call('GET', KEYS[1])", "1", "{danmu}:x"])
        XCTAssertEqual(eval, .bulkString(Array("1".utf8)))
    }

    func testABatchOverSeveralMastersComesBackInOrder() throws {
        // Keys spread over the three masters; the batch goes to master 0, which redirects the others' keys.
        var keys: [String] = []
        var owners: Set<Int> = []
        for n in 0..<200 where keys.count < 12 {
            let key = "k\(n)"
            if let owner = cluster.owner(ofSlot: RedisKeySlot.slot(of: key)) {
                keys.append(key)
                owners.insert(owner)
            }
        }
        XCTAssertEqual(owners.count, 3)
        let client = try client(0)
        defer { client.close() }
        let sets = try client.run(keys.map { ["SET", $0, "v-" + $0] })
        XCTAssertEqual(sets, Array(repeating: .simpleString("OK"), count: keys.count))
        let gets = try client.run(keys.flatMap { [["GET", $0], ["STRLEN", $0]] })
        XCTAssertEqual(gets, keys.flatMap { [.bulkString(Array("v-\($0)".utf8)), .integer(Int64($0.utf8.count + 2))] })
    }

    func testAskDuringASlotMigrationIsFollowedWithoutUpdatingTheMap() throws {
        let key = "{migrating}:k"
        let slot = RedisKeySlot.slot(of: key)
        let source = try XCTUnwrap(cluster.owner(ofSlot: slot))
        let target = (source + 1) % 3
        XCTAssertEqual(
            cluster.cli(target, ["cluster", "setslot", String(slot), "importing", cluster.nodeID(source)]), "OK\n")
        XCTAssertEqual(
            cluster.cli(source, ["cluster", "setslot", String(slot), "migrating", cluster.nodeID(target)]), "OK\n")
        // A key the source does not hold is asked for on the target.
        XCTAssertTrue(cluster.cli(source, ["set", key, "v"]).hasPrefix("ASK \(slot) "))
        let client = try client(source)
        defer { client.close() }
        XCTAssertEqual(try client.run(["SET", key, "v"]), .simpleString("OK"))
        XCTAssertEqual(try client.run(["GET", key]), .bulkString(Array("v".utf8)))
        // A transaction on a migrated key: EXECABORT at the source, then all of it after one ASKING.
        let transaction = try client.run([["MULTI"], ["SET", key, "w"], ["GET", key], ["EXEC"]])
        XCTAssertEqual(
            transaction,
            [
                .simpleString("OK"), .simpleString("QUEUED"), .simpleString("QUEUED"),
                .array([.simpleString("OK"), .bulkString(Array("w".utf8))]),
            ])
        XCTAssertNil(client.learntNode(forSlot: slot), "ASK does not move the slot")
        XCTAssertEqual(cluster.cli(target, ["cluster", "countkeysinslot", String(slot)]), "1\n")
        XCTAssertEqual(cluster.cli(source, ["cluster", "countkeysinslot", String(slot)]), "0\n")
    }

    func testARedirectionLoopEndsInAnErrorNotAHang() throws {
        // The source says ASK target; the target is not importing, so it answers MOVED source: forever.
        let key = "{loop}:k"
        let slot = RedisKeySlot.slot(of: key)
        let source = try XCTUnwrap(cluster.owner(ofSlot: slot))
        let target = (source + 1) % 3
        XCTAssertEqual(
            cluster.cli(source, ["cluster", "setslot", String(slot), "migrating", cluster.nodeID(target)]), "OK\n")
        let client = try client(source)
        defer { client.close() }
        XCTAssertThrowsError(try client.run(["SET", key, "v"])) { error in
            XCTAssertTrue("\(error)".contains("redirected a command more than 5 times"), "\(error)")
        }
        // The client still works for other slots.
        XCTAssertEqual(try client.run(["SET", "{danmu}:after", "1"]), .simpleString("OK"))
    }
}
