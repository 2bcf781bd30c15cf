import EventLoop
import Glibc
import XCTest

@testable import DanmuClient

/// The event stream's consumer rules (issue 17): cancellation ends an iteration, a second concurrent consumer
/// gets a clear error instead of a crash, and no event is lost either way.
final class EventStreamConsumerTests: XCTestCase {
    private func event(_ n: Int) -> RoomEvent {
        RoomEvent(room: 1, receivedAt: Int64(n), event: .popularity(UInt32(n)))
    }

    /// `next()` ignored task cancellation: a cancelled consumer stayed parked forever.
    func testCancellingTheConsumerEndsItsIterationAndKeepsTheEvents() async throws {
        let buffer = EventStreamBuffer(highWatermark: 100, lowWatermark: 10) { _ in }
        let parked = Task { () -> RoomEvent? in try await buffer.next() }
        while !buffer.hasWaiter { await Task.yield() }
        parked.cancel()
        let result = try await parked.value
        XCTAssertNil(result, "a cancelled consumer's next() must return nil")
        // Events pushed later wait for the next consumer.
        buffer.push([event(1), event(2)])
        let first = try await buffer.next()
        XCTAssertEqual(first?.receivedAt, 1)
        XCTAssertEqual(buffer.count, 1)
    }

    /// A task that is already cancelled when it calls `next()` does not park.
    func testAlreadyCancelledConsumerDoesNotPark() async throws {
        let buffer = EventStreamBuffer(highWatermark: 100, lowWatermark: 10) { _ in }
        let task = Task { () -> RoomEvent? in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await buffer.next()
        }
        let result = try await task.value
        XCTAssertNil(result)
        XCTAssertFalse(buffer.hasWaiter)
    }

    /// A second consumer waiting at the same time crashed the process on a precondition.
    func testSecondConcurrentConsumerGetsAClearError() async throws {
        let buffer = EventStreamBuffer(highWatermark: 100, lowWatermark: 10) { _ in }
        let first = Task { () -> RoomEvent? in try await buffer.next() }
        while !buffer.hasWaiter { await Task.yield() }
        do {
            _ = try await buffer.next()
            XCTFail("a second concurrent consumer must get an error")
        } catch {
            XCTAssertEqual(error, .concurrentConsumer)
            XCTAssertTrue(error.description.contains("one consumer at a time"))
        }
        // The first consumer is unaffected and gets the next event.
        buffer.push([event(7)])
        let got = try await first.value
        XCTAssertEqual(got?.receivedAt, 7)
    }
}
