import DanmuPipeline
import EventLoop

/// The fence at the sink: the last check before a record leaves the process. A batch passes the lease gate on
/// a worker, then waits in the sink runner's queue (or its spool) for the writer thread; a node paused in
/// between (SIGSTOP, a stall) or whose sink was slow may lose the lease meanwhile. `wrap(_:)` puts a
/// `FencedSink` around a sink: on the writer thread, right before each write (and each retry or spool replay),
/// it drops the records of a tenure that was lost, or whose lease ran out by the monotonic clock (even before
/// the coordinator noticed), and counts them per room (`ClusterNode.fencedRecords`). Rooms handed over
/// gracefully keep their records: their lease was ours until another node claimed them, and the shared dedupe
/// already dropped the new owner's copies.
///
/// What it does not close: a write *sent* while the lease was valid that Redis applies later (the bytes sat in
/// a socket buffer, or the process stopped between this check and the send). The lease margin (a tenth of the
/// TTL) covers a delay up to that long; see docs/cluster.md, "Guaranteed, and not".
///
/// The fence exists before the node (the sinks are opened first): `attach(_:)` binds it. Unattached, it passes
/// everything (no node, no gate that let anything through).
public final class LeaseFence: Sendable {
    private let node = Lock<ClusterNode?>(nil)

    public init() {}

    public func attach(_ node: ClusterNode) { self.node.withLock { $0 = node } }

    /// `sink` behind this fence.
    public func wrap(_ sink: any Sink) -> any Sink { FencedSink(inner: sink, fence: self) }

    /// The records of `batch` that may still be written now.
    public func admit(_ batch: [SinkRecord]) -> [SinkRecord] {
        guard let node = node.withLock({ $0 }), !batch.isEmpty else { return batch }
        let now = SystemClock.monotonicNanoseconds()
        return node.shared.withLock { s in
            var kept: [SinkRecord] = []
            kept.reserveCapacity(batch.count)
            for record in batch {
                if s.admits(room: record.room, receivedAt: record.receivedAt, now: now) {
                    kept.append(record)
                } else {
                    s.fenced[record.room, default: 0] += 1
                }
            }
            return kept.count == batch.count ? batch : kept
        }
    }
}

/// A sink behind a `LeaseFence`: writes what the fence admits, on the runner's writer thread.
final class FencedSink: Sink {
    let inner: any Sink
    let fence: LeaseFence

    init(inner: any Sink, fence: LeaseFence) {
        self.inner = inner
        self.fence = fence
    }

    var name: String { inner.name }

    func write(_ batch: [SinkRecord]) throws(PipelineError) {
        let kept = fence.admit(batch)
        if kept.isEmpty { return }
        try inner.write(kept)
    }

    func close() { inner.close() }
}
