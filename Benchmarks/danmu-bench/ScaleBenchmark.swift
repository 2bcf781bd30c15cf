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
            let switchesBefore = ThreadStats.read()
            let cpuSteady = ProcessMetrics.cpuSeconds()
            sleepSeconds(seconds)
            let events = tally.count - countBefore
            let steadyCPU = ProcessMetrics.cpuSeconds() - cpuSteady
            let switchesAfter = ThreadStats.read()
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
                BenchmarkFigure(
                    name: "\(label).io_wakeups_per_s",
                    value: Double(
                        (switchesAfter["danmu-io"]?.voluntarySwitches ?? 0)
                            - (switchesBefore["danmu-io"]?.voluntarySwitches ?? 0)) / seconds,
                    unit: "/s", note: "voluntary context switches of the IO thread, steady state"),
            ]
            chart.add(series: "danmu (epoll)", metric: .eventsPerSecond, rooms: rooms, value: Double(events) / seconds)
            chart.add(series: "danmu (epoll)", metric: .bytesPerRoom, rooms: rooms, value: rssPerRoom)
        } catch {
            figures.append(BenchmarkFigure(name: "scale.\(rooms)", value: .nan, unit: "", note: "failed: \(error)"))
        }
    }
    if let largest = roomCounts.max() {
        figures += runIdleScale(rooms: largest, seconds: seconds)
        // The same with every live timer at its own millisecond (the behaviour before the leeway), same binary.
        figures += runIdleScale(rooms: largest, seconds: seconds, leeway: .zero)
    }
    return figures
}

/// `scale.idle.N`: N live rooms that receive nothing but heartbeat replies (the simulator's rate is one message
/// per room per ~3 hours). The loop's wake-ups per second and the CPU are then the cost of the rooms' timers; RSS
/// per room is taken over a one-room baseline of the same process (room 1 live first, then the other N − 1).
func runIdleScale(rooms: Int, seconds: Double, leeway: Duration? = nil) -> [BenchmarkFigure] {
    progress("scale: \(rooms) idle rooms for \(seconds) s, live timer leeway \(leeway.map { "\($0)" } ?? "default")")
    let label = "scale.idle.\(rooms)" + (leeway == .zero ? ".no_leeway" : "")
    do {
        let server = try SimulatorProcess(.init(rooms: rooms, rate: 0.0001, compression: "brotli"))
        let client = try ClientRun(port: server.port, rooms: rooms, tally: EventTally()) {
            if let leeway { $0.timing.liveTimerLeeway = leeway }
        }
        client.collector.add(rooms: 1...1)
        _ = client.waitUntilLive(1, timeoutSeconds: 30)
        sleepSeconds(0.5)
        let rssOne = ProcessMetrics.residentBytes()
        let heapOne = ProcessMetrics.heapBytes()
        client.collector.add(rooms: 2...Int64(rooms))
        let connected = client.waitUntilLive(rooms, timeoutSeconds: 120)
        sleepSeconds(1)
        let rssPerRoom = Double(ProcessMetrics.residentBytes() - rssOne) / Double(max(1, rooms - 1))
        let heapPerRoom = Double(ProcessMetrics.heapBytes() - heapOne) / Double(max(1, rooms - 1))
        let switchesBefore = ThreadStats.read()
        let cpuBefore = ProcessMetrics.cpuSeconds()
        sleepSeconds(seconds)
        let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
        let switchesAfter = ThreadStats.read()
        let live = client.collector.statistics().roomsLive
        client.collector.shutdown()
        _ = server.stop()
        let wakeups =
            Double(
                (switchesAfter["danmu-io"]?.voluntarySwitches ?? 0)
                    - (switchesBefore["danmu-io"]?.voluntarySwitches ?? 0)) / seconds
        return [
            BenchmarkFigure(
                name: "\(label).io_wakeups_per_s", value: wakeups, unit: "/s",
                note: "\(live) live\(connected == nil ? " (connect timed out)" : ""); IO thread's voluntary switches"),
            BenchmarkFigure(
                name: "\(label).client_cpu_per_s", value: cpu / seconds * 1e3, unit: "ms/s",
                note: "client CPU per second, idle"),
            BenchmarkFigure(
                name: "\(label).rss_per_room", value: rssPerRoom, unit: "B", note: "over a 1-room baseline"),
            BenchmarkFigure(
                name: "\(label).heap_per_room", value: heapPerRoom, unit: "B", note: "mallinfo2, over 1 room"),
        ]
    } catch {
        return [BenchmarkFigure(name: label, value: .nan, unit: "", note: "failed: \(error)")]
    }
}

func format(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    if value >= 100 { return String(Int(value.rounded())) }
    let scaled = (value * 100).rounded() / 100
    return String(scaled)
}
