import Glibc
import TestSupport
import XCTest
import EventLoop
@testable import DanmuSimulator

/// Runs `body` against a fresh simulator on a fresh reactor; afterwards stops both and checks that every fd the
/// test opened is closed again (the clients must be gone when `body` returns).
func withSimulator(
    _ configuration: Simulator.Configuration, file: StaticString = #filePath, line: UInt = #line,
    _ body: (Simulator, UInt16) throws -> Void
) throws {
    let baseline = openFileDescriptors().count
    try {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.shutdown() }
        let simulator = Simulator(reactor: reactor, configuration: configuration)
        let address = try simulator.start()
        defer { simulator.stop() }
        try body(simulator, address.port)
    }()
    XCTAssertEqual(openFileDescriptors().count, baseline, "fds back to baseline", file: file, line: line)
}

/// Polls `condition` for up to `timeout` seconds (statistics are updated on the loop thread).
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    pollUntil(timeout: .seconds(timeout), interval: .milliseconds(10), condition)
}

/// The danmaku sequence numbers of `messages` (in order), checking they belong to `room`.
func sequenceNumbers(
    _ messages: [InnerMessage], room: Int64, file: StaticString = #filePath,
    line: UInt = #line
) -> [UInt64] {
    messages.compactMap(\.danmaku).map { danmaku in
        XCTAssertEqual(danmaku.id.room, room, file: file, line: line)
        return danmaku.id.seq
    }
}
