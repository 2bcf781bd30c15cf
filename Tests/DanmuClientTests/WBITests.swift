import XCTest
@testable import DanmuClient

final class WBITests: XCTestCase {
    /// docs/protocol.md §2.2 test vector (BAC docs/misc/sign/wbi.md).
    func testPublishedVector() throws {
        let signer = try XCTUnwrap(
            WBISigner(
                imgURL: "https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png",
                subURL: "https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"))
        XCTAssertEqual(signer.imgKey, "7cd084941338484aae1ad9425b84077c")
        XCTAssertEqual(signer.mixinKey, "ea1db124af3c7062474693fa704f4ff8")
        let query = signer.signedQuery([("foo", "114"), ("bar", "514"), ("zab", "1919810")], wts: 1_702_204_169)
        XCTAssertEqual(query, "bar=514&foo=114&wts=1702204169&zab=1919810&w_rid=8f6f2b5b3d485fe1886cec6a0be8c5d4")
    }

    func testEncodeURIComponentLikeJavaScript() {
        XCTAssertEqual(WBISigner.encodeURIComponent("a b&c=d/é~!*'()"), "a%20b%26c%3Dd%2F%C3%A9~!*'()")
    }

    func testUnsafeCharactersAreStrippedBeforeSigning() throws {
        let signer = try XCTUnwrap(
            WBISigner(imgKey: String(repeating: "a", count: 32), subKey: String(repeating: "b", count: 32)))
        let plain = signer.signedQuery([("q", "ab")], wts: 1)
        let noisy = signer.signedQuery([("q", "a!'()*b")], wts: 1)
        XCTAssertEqual(plain, noisy)
    }

    func testShortKeysAreRejected() {
        XCTAssertNil(WBISigner(imgKey: "abc", subKey: "def"))
    }
}
