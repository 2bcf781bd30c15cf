import DanmuClient
import Glibc
import XCTest

/// Defaults that docs/library.md and docs/architecture.md state as numbers.
final class DefaultsTests: XCTestCase {
    /// Every socket is paused once 65,536 events wait in the stream (resumed at 16,384).
    func testStreamWatermarksDefaultTo65536And16384() {
        let configuration = DanmuCollector.Configuration()
        XCTAssertEqual(configuration.streamHighWatermark, 65_536)
        XCTAssertEqual(configuration.streamLowWatermark, 16_384)
    }

    /// The collector's decoding workers: cores − 1, at least 1 (counted here from sysconf), unless asked.
    func testWorkersDefaultToCoresMinusOneAtLeastOne() {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        XCTAssertEqual(DanmuCollector.Configuration().workers, max(1, cores - 1), "\(cores) cores")
        XCTAssertEqual(DanmuCollector.Configuration(workers: 3).workers, 3)
        XCTAssertEqual(DanmuCollector.Configuration(workers: 0).workers, 1, "at least 1")
    }

    /// README, "Choosing a transport": raw TCP (2243) is the default, ws is 2244, wss 443, and `auto` moves a room
    /// to wss after two failed attempts (TransportChoice's behaviour is RoomSessionStateMachineTests'; the numbers
    /// the README states are these defaults).
    func testTransportDefaultsAreTCPOn2243Ws2244Wss443AndAutoAfterTwoFailures() {
        let configuration = DanmuCollector.Configuration()
        XCTAssertEqual(configuration.transport, .tcp)
        XCTAssertEqual(configuration.autoFallbackAfterFailures, 2)
        let resolved = ServerAddress(host: "example")
        XCTAssertEqual([resolved.port, resolved.wsPort, resolved.wssPort], [2243, 2244, 443])
        let fixed = ServerAddress(host: "127.0.0.1", port: 2243)
        XCTAssertEqual([fixed.wsPort, fixed.wssPort], [2244, 443])
    }
}
