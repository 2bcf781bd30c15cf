import Synchronization

/// What `iterate(_:deadline:onDeadline:_:)` saw: how many elements it handed to the body, and whether it ended
/// because the deadline passed (rather than the body stopping or the sequence finishing).
public struct IterationOutcome: Sendable, CustomStringConvertible {
    public var elements = 0
    public var timedOut = false
    /// True when the sequence itself ended (returned nil), whether or not the deadline had fired.
    public var sequenceEnded = false

    public var description: String {
        "\(elements) elements" + (timedOut ? ", deadline passed" : "") + (sequenceEnded ? ", sequence ended" : "")
    }
}

/// Iterates `sequence` until `body` returns false or the sequence ends, but never past `deadline`: a `for await`
/// whose expected element never comes must fail with what it got, not hang CI.
///
/// An iterator suspended in `next()` cannot be interrupted from outside (a stream may ignore cancellation), so
/// at the deadline `onDeadline` runs on another task and must END the sequence (typically `collector.shutdown()`).
/// Elements already buffered are still handed to `body` after that; the outcome says the deadline passed, and
/// the caller asserts on its own counts (`XCTAssertFalse(outcome.timedOut, "received \(counts)")`).
public func iterate<S: AsyncSequence>(
    _ sequence: S, deadline: Duration, onDeadline: @escaping @Sendable () -> Void,
    isolation: isolated (any Actor)? = #isolation, _ body: (S.Element) throws -> Bool
) async throws -> IterationOutcome {
    /// 0 running, 1 finished in time, 2 the deadline fired first.
    let state = DeadlineState()
    let watchdog = Task.detached {
        try? await Task.sleep(for: deadline)
        if state.value.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged {
            onDeadline()
        }
    }
    defer { watchdog.cancel() }
    var outcome = IterationOutcome()
    var iterator = sequence.makeAsyncIterator()
    while true {
        guard let element = try await iterator.next(isolation: isolation) else {
            outcome.sequenceEnded = true
            break
        }
        outcome.elements += 1
        if try !body(element) { break }
    }
    let previous = state.value.exchange(1, ordering: .acquiringAndReleasing)
    outcome.timedOut = previous == 2
    return outcome
}

private final class DeadlineState: Sendable {
    let value = Atomic<Int>(0)
}
