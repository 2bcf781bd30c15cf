import DanmuPipeline
import XCTest

/// The slot function against published values (the Redis Cluster spec and `CLUSTER KEYSLOT` docs); the same
/// function against a live `redis-cli cluster keyslot` is in DanmuClusterTests/RedisClusterRoutingTests.
final class RedisKeySlotTests: XCTestCase {
    func testCRC16IsXModem() {
        // The CRC-16/XMODEM check value: CRC of "123456789" is 0x31C3 (the spec's appendix).
        XCTAssertEqual(RedisKeySlot.slot(of: "123456789"), 0x31C3 & 16383)
    }

    func testPublishedSlots() {
        XCTAssertEqual(RedisKeySlot.slot(of: "somekey"), 11058)
        XCTAssertEqual(RedisKeySlot.slot(of: "foo{hash_tag}"), 2515)
        XCTAssertEqual(RedisKeySlot.slot(of: "bar{hash_tag}"), 2515)
        XCTAssertEqual(RedisKeySlot.slot(of: ""), 0)
    }

    func testHashTagRules() {
        let danmu = RedisKeySlot.slot(of: "danmu")
        XCTAssertEqual(RedisKeySlot.slot(of: "{danmu}:rooms"), danmu)
        XCTAssertEqual(RedisKeySlot.slot(of: "{danmu}:lease:123456"), danmu)
        XCTAssertEqual(RedisKeySlot.slot(of: "danmu:sink:{danmu}:stream:last-batch"), danmu, "first { … } wins")
        XCTAssertEqual(RedisKeySlot.slot(of: "{danmu}{other}"), danmu, "only the first tag counts")
        XCTAssertNotEqual(RedisKeySlot.slot(of: "{}danmu"), danmu, "an empty tag is no tag")
        XCTAssertEqual(RedisKeySlot.slot(of: "{{danmu}"), RedisKeySlot.slot(of: "{danmu"), "tag runs to the first }")
        XCTAssertEqual(RedisKeySlot.slot(of: "x}{danmu}"), danmu, "a } before the first { does not close it")
    }

    func testRoutingKeyOfCommands() {
        func key(_ command: [String]) -> String? {
            RedisKeySlot.routingKey(of: command.map { Array($0.utf8) }).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(key(["SET", "{danmu}:a", "1"]), "{danmu}:a")
        XCTAssertEqual(key(["evalsha", "abc", "2", "{danmu}:nodes", "{danmu}:node:x", "arg"]), "{danmu}:nodes")
        XCTAssertNil(key(["EVAL", "return 1", "0"]))
        XCTAssertNil(key(["TIME"]))
        XCTAssertNil(key(["MULTI"]))
        XCTAssertNil(key(["PUBLISH", "channel", "x"]))
    }

    func testRedirectionReplies() {
        let here = RedisNodeAddress(host: "127.0.0.1", port: 7000)
        XCTAssertEqual(
            RedisRedirection(.error("MOVED 3999 127.0.0.1:6381"), answeredBy: here),
            .moved(slot: 3999, node: RedisNodeAddress(host: "127.0.0.1", port: 6381)))
        XCTAssertEqual(
            RedisRedirection(.error("ASK 12 :7001"), answeredBy: here),
            .ask(slot: 12, node: RedisNodeAddress(host: "127.0.0.1", port: 7001)), "empty host: the answering node's")
        XCTAssertNil(RedisRedirection(.error("ERR MOVED wrong"), answeredBy: here))
        XCTAssertNil(RedisRedirection(.error("MOVED 99999 127.0.0.1:1"), answeredBy: here), "slot out of range")
        XCTAssertNil(RedisRedirection(.simpleString("MOVED 1 127.0.0.1:1"), answeredBy: here))
    }
}
