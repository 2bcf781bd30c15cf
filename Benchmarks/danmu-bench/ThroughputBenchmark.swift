import DanmuClient
import Glibc

/// `throughput`: 100 rooms flooding (the simulator writes as fast as the sockets drain, `limit` messages per room),
/// plain / zlib / brotli batches, every message fully decoded to a typed event and counted by the handler.
func runThroughputBenchmark(rooms: Int, limitPerRoom: Int, runs: Int, timeoutSeconds: Double) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    for compression in ["none", "zlib", "brotli"] {
        var rates: [Double] = []
        var cpuPerMillion: [Double] = []
        var lost = 0
        for run in 1...runs {
            progress("throughput: \(rooms) rooms × \(limitPerRoom) msgs, \(compression), run \(run)/\(runs)")
            do {
                let server = try SimulatorProcess(.init(rooms: rooms, rate: 0, compression: compression,
                                                        limitPerRoom: limitPerRoom, batch: 10))
                let tally = EventTally()
                let client = try ClientRun(port: server.port, rooms: rooms, tally: tally)
                let expected = rooms * limitPerRoom
                let cpuBefore = ProcessMetrics.cpuSeconds()
                client.collector.add(rooms: 1...Int64(rooms))
                let seconds = client.waitForMessages(expected, timeoutSeconds: timeoutSeconds)
                let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
                let received = tally.count
                client.collector.shutdown()
                _ = server.stop()
                lost += max(0, expected - received)
                rates.append(Double(received) / seconds)
                cpuPerMillion.append(cpu / Double(max(1, received)) * 1e6)
            } catch {
                progress("throughput run failed: \(error)")
            }
        }
        guard !rates.isEmpty else { continue }
        figures.append(BenchmarkFigure(name: "throughput.\(compression).events_per_s", value: median(rates), unit: "ev/s",
                                       note: "median of \(rates.count); \(lost == 0 ? "none missing" : "\(lost) missing")"))
        figures.append(BenchmarkFigure(name: "throughput.\(compression).cpu_per_million", value: median(cpuPerMillion),
                                       unit: "CPU s", note: "client process, incl. connect"))
    }
    return figures
}

/// `latency`: N rooms at R msg/s; p50/p99/p999 from the simulator's send time (CLOCK_MONOTONIC in id_str) to the
/// handler. The first second is dropped as warm-up.
func runLatencyBenchmark(rooms: Int, rate: Double, seconds: Double) -> [BenchmarkFigure] {
    progress("latency: \(rooms) rooms at \(rate) msg/s for \(seconds) s")
    do {
        let server = try SimulatorProcess(.init(rooms: rooms, rate: rate, compression: "brotli", batch: 1))
        let tally = EventTally(recordLatency: true)
        let client = try ClientRun(port: server.port, rooms: rooms, tally: tally)
        client.collector.add(rooms: 1...Int64(rooms))
        _ = client.waitUntilLive(rooms, timeoutSeconds: 60)
        sleepSeconds(1)
        _ = tally.takeLatencies()
        sleepSeconds(seconds)
        let samples = tally.takeLatencies().map { Double($0) / 1e6 }.sorted()
        client.collector.shutdown()
        _ = server.stop()
        guard !samples.isEmpty else {
            return [BenchmarkFigure(name: "latency", value: .nan, unit: "ms", note: "no samples")]
        }
        let note = "\(samples.count) danmaku, \(rooms) rooms × \(format(rate))/s"
        return [
            BenchmarkFigure(name: "latency.p50", value: percentile(samples, 0.50), unit: "ms", note: note),
            BenchmarkFigure(name: "latency.p99", value: percentile(samples, 0.99), unit: "ms"),
            BenchmarkFigure(name: "latency.p999", value: percentile(samples, 0.999), unit: "ms"),
        ]
    } catch {
        return [BenchmarkFigure(name: "latency", value: .nan, unit: "ms", note: "failed: \(error)")]
    }
}
