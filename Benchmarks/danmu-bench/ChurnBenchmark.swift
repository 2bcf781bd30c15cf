import DanmuClient
import Glibc

/// `churn`: N rooms at R danmaku/s while the server closes every connection after `closeAfter` messages (issue 17,
/// bug 6: a server that drops each connection after ~20 s of good traffic). Reports coverage: danmaku received ÷
/// danmaku broadcast while the rooms were meant to be held.
///
/// "Broadcast" is what a live room emits whether or not we are connected: rooms × rate × the seconds from `add` to
/// the end of the window (the simulator generates messages only for a connected client, so its own `sent` counts
/// what reached a socket, not what the room said; both are reported). The gap between the two is the time rooms
/// spent disconnected: in backoff, reconnecting, authenticating.
func runChurnBenchmark(rooms: Int, rate: Double, closeAfter: Int, seconds: Double) -> [BenchmarkFigure] {
    progress(
        "churn: \(rooms) rooms × \(format(rate)) msg/s for \(format(seconds)) s, every connection closed after "
            + "\(closeAfter) messages")
    do {
        let server = try SimulatorProcess(
            .init(
                rooms: rooms, rate: rate, compression: "brotli", batch: 1,
                closeAfter: closeAfter, danmakuOnly: true))
        let tally = EventTally()
        let client = try ClientRun(port: server.port, rooms: rooms, tally: tally)
        let start = ProcessMetrics.monotonicNanoseconds()
        client.collector.add(rooms: 1...Int64(rooms))
        // Sample the phases once a second: how many rooms sat in backoff (not held) at the same time.
        var backingOff: [Double] = []
        var maxBackingOff = 0
        var elapsed = 0.0
        while elapsed < seconds {
            sleepSeconds(min(1, seconds - elapsed))
            let statistics = client.collector.statistics()
            backingOff.append(Double(statistics.roomsBackingOff))
            maxBackingOff = max(maxBackingOff, statistics.roomsBackingOff)
            elapsed = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
        }
        let received = tally.count
        let statistics = client.collector.statistics()
        client.collector.shutdown()
        let serverResult = server.stop()
        let broadcast = Double(rooms) * rate * elapsed
        let coverage = Double(received) / broadcast * 100
        let meanBackingOff = backingOff.isEmpty ? 0 : backingOff.reduce(0, +) / Double(backingOff.count)
        let note = "\(received) of \(Int(broadcast.rounded())) broadcast; simulator wrote \(serverResult.messagesSent)"
        progress(
            "churn: coverage \(format(coverage)) % (\(note)); \(statistics.reconnects) reconnects, "
                + "\(statistics.errors) errors; rooms in backoff: mean \(format(meanBackingOff)), "
                + "max \(maxBackingOff)")
        let label = "churn.\(rooms)"
        return [
            BenchmarkFigure(name: "\(label).coverage", value: coverage, unit: "%", note: note),
            BenchmarkFigure(
                name: "\(label).reconnects", value: Double(statistics.reconnects), unit: "",
                note: "\(statistics.errors) errors over \(format(elapsed)) s"),
            BenchmarkFigure(
                name: "\(label).rooms_backing_off", value: meanBackingOff, unit: "rooms",
                note: "mean of 1 s samples; max \(maxBackingOff)"),
        ]
    } catch {
        return [BenchmarkFigure(name: "churn.\(rooms)", value: .nan, unit: "", note: "failed: \(error)")]
    }
}
