import Glibc
import Synchronization
import TestSupport
import XCTest

@testable import danmu_cli

/// `--rotate daily`: the file is renamed at the first write after local midnight (FILE.YYYYMMDD-HHMMSS, the time
/// of that write), never before it and not again that day. The clock is injected (OutputDestination's `now`), so
/// midnight comes without waiting; the times are built with mktime in the local time zone.
final class DailyRotationTests: XCTestCase {
    /// Local time → time_t.
    func local(_ year: Int32, _ month: Int32, _ day: Int32, _ hour: Int32, _ minute: Int32, _ second: Int32)
        -> time_t
    {
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        parts.tm_isdst = -1
        return mktime(&parts)
    }

    func write(_ destination: OutputDestination, _ text: String) {
        let failure = Array(text.utf8).withUnsafeBytes { destination.write($0) }
        XCTAssertNil(failure)
    }

    func testDailyRotationRenamesAtTheFirstWriteAfterLocalMidnight() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.jsonl")
        let clock = Mutex<time_t>(local(2026, 3, 1, 23, 59, 58))
        let destination = try OutputDestination(
            appendingTo: path, rotation: .daily, now: { clock.withLock { $0 } })
        write(destination, "{\"n\":1}\n")
        clock.withLock { $0 = local(2026, 3, 1, 23, 59, 59) }
        write(destination, "{\"n\":2}\n")
        XCTAssertEqual(directory.list(), ["events.jsonl"], "no rotation before midnight")

        clock.withLock { $0 = local(2026, 3, 2, 0, 0, 1) }
        write(destination, "{\"n\":3}\n")
        XCTAssertEqual(directory.list(), ["events.jsonl", "events.jsonl.20260302-000001"], "renamed at that write")
        XCTAssertEqual(readText(directory.file("events.jsonl.20260302-000001")), "{\"n\":1}\n{\"n\":2}\n")
        XCTAssertEqual(destination.rotatedFiles, [directory.file("events.jsonl.20260302-000001")])

        clock.withLock { $0 = local(2026, 3, 2, 23, 59, 59) }
        write(destination, "{\"n\":4}\n")
        XCTAssertEqual(directory.list().count, 2, "not again the same day")
        XCTAssertEqual(readText(path), "{\"n\":3}\n{\"n\":4}\n")

        clock.withLock { $0 = local(2026, 3, 3, 0, 0, 0) }
        write(destination, "{\"n\":5}\n")
        XCTAssertEqual(
            directory.list(), ["events.jsonl", "events.jsonl.20260302-000001", "events.jsonl.20260303-000000"])
        XCTAssertEqual(readText(path), "{\"n\":5}\n")
    }
}
