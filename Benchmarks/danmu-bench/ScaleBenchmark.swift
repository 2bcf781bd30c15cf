import DanmuClient
import Glibc

/// `scale`: N rooms at 1 msg/s each against a simulator process — time to connect all, user bytes and RSS per room,
/// client CPU seconds, events/s. The chart plots events/s and memory per room against N.
func runScaleBenchmark(roomCounts: [Int], seconds: Double, chart: inout ChartData) -> [BenchmarkFigure] {
    var figures: [BenchmarkFigure] = []
    for rooms in roomCounts {
        progress("scale: \(rooms) rooms at 1 msg/s for \(seconds) s")
        do {
            let server = try SimulatorProcess(.init(rooms: rooms, rate: 1, compression: "brotli"))
            let tally = EventTally()
            let client = try ClientRun(port: server.port, rooms: rooms, tally: tally)
            sleepSeconds(0.2)
            let heapBefore = ProcessMetrics.heapBytes()
            let rssBefore = ProcessMetrics.residentBytes()
            let cpuBefore = ProcessMetrics.cpuSeconds()
            client.collector.add(rooms: 1...Int64(rooms))
            let connectSeconds = client.waitUntilLive(rooms, timeoutSeconds: 120)
            sleepSeconds(1)  // let the first bursts settle before reading memory
            let heapPerRoom = Double(ProcessMetrics.heapBytes() - heapBefore) / Double(rooms)
            let rssPerRoom = Double(ProcessMetrics.residentBytes() - rssBefore) / Double(rooms)
            let countBefore = tally.count
            let cpuSteady = ProcessMetrics.cpuSeconds()
            sleepSeconds(seconds)
            let events = tally.count - countBefore
            let steadyCPU = ProcessMetrics.cpuSeconds() - cpuSteady
            let totalCPU = ProcessMetrics.cpuSeconds() - cpuBefore
            let live = client.collector.statistics().roomsLive
            client.collector.shutdown()
            let serverResult = server.stop()
            let label = "scale.\(rooms)"
            figures += [
                BenchmarkFigure(
                    name: "\(label).connect_all", value: connectSeconds ?? .nan, unit: "s",
                    note: connectSeconds == nil ? "timed out; \(live) live" : "\(live) live"),
                BenchmarkFigure(name: "\(label).heap_per_room", value: heapPerRoom, unit: "B", note: "mallinfo2 delta"),
                BenchmarkFigure(name: "\(label).rss_per_room", value: rssPerRoom, unit: "B"),
                BenchmarkFigure(name: "\(label).events_per_s", value: Double(events) / seconds, unit: "ev/s"),
                BenchmarkFigure(
                    name: "\(label).client_cpu", value: totalCPU, unit: "s",
                    note: "incl. connect; steady \(format(steadyCPU)) s over \(format(seconds)) s"),
                BenchmarkFigure(
                    name: "\(label).client_cpu_per_msg", value: events > 0 ? steadyCPU / Double(events) * 1e6 : .nan,
                    unit: "µs", note: "steady state"),
                BenchmarkFigure(
                    name: "\(label).server_cpu", value: serverResult.cpuSeconds, unit: "s", note: "simulator process"),
            ]
            chart.add(series: "danmu (epoll)", metric: .eventsPerSecond, rooms: rooms, value: Double(events) / seconds)
            chart.add(series: "danmu (epoll)", metric: .bytesPerRoom, rooms: rooms, value: rssPerRoom)
        } catch {
            figures.append(BenchmarkFigure(name: "scale.\(rooms)", value: .nan, unit: "", note: "failed: \(error)"))
        }
    }
    return figures
}

func format(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    if value >= 100 { return String(Int(value.rounded())) }
    let scaled = (value * 100).rounded() / 100
    return String(scaled)
}
