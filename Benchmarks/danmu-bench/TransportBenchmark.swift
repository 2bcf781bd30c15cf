import CDanmuSystem
import DanmuClient
import Glibc
import TestSupport

/// `transports`: tcp, ws and wss side by side in one run, each against a fresh simulator process serving all three:
/// - idle: `idleRooms` rooms (one count for all three, or tcp, ws, wss: `--rooms 10000,10000,2000`, the issue's
///   mix) at one message per 100 s: RSS per live room (wss with SSL_MODE_RELEASE_BUFFERS), the
///   time to connect them all, the client CPU that took;
/// - flood: `floodRooms` rooms × `floodPerRoom` danmaku as fast as the simulator writes (batches of 10, brotli):
///   client CPU per event.
/// The certificate is the test CA's (Scripts/make_test_certificates.sh), checked like any other (`--ca-file`).
func runTransportBenchmark(idleRooms: [Int], floodRooms: Int, floodPerRoom: Int) -> [BenchmarkFigure] {
    let directory = String(cString: mkdtemp(strdup("/tmp/danmu-bench-tls-XXXXXX")))
    defer { _ = system("rm -rf '\(directory)'") }
    let script = TestFiles.repositoryRoot + "/Scripts/make_test_certificates.sh"
    guard system("'\(script)' '\(directory)' >/dev/null 2>&1") == 0 else {
        return [
            BenchmarkFigure(name: "transports", value: .nan, unit: "", note: "failed: no openssl to make certificates")
        ]
    }
    var figures: [BenchmarkFigure] = []
    for (index, kind) in [DanmuCollector.Configuration.Transport.tcp, .ws, .wss].enumerated() {
        let rooms = idleRooms.count == 3 ? idleRooms[index] : idleRooms[0]
        figures += idleRun(kind, rooms: rooms, certificates: directory)
        figures += floodRun(kind, rooms: floodRooms, perRoom: floodPerRoom, certificates: directory)
    }
    return figures
}

private func simulatorOptions(rooms: Int, rate: Double, certificates: String) -> SimulatorProcess.Options {
    var options = SimulatorProcess.Options(rooms: rooms, rate: rate, compression: "brotli")
    options.webSocket = true
    options.tlsCertificate = certificates + "/server.pem"
    options.tlsKey = certificates + "/server.key"
    options.danmakuOnly = true
    return options
}

private func client(
    _ kind: DanmuCollector.Configuration.Transport, server: SimulatorProcess, rooms: Int, tally: EventTally,
    certificates: String
) throws -> ClientRun {
    let fixed = ServerAddress(
        host: "localhost", port: server.port, wsPort: server.wsPort, wssPort: server.wssPort)
    return try ClientRun(
        port: server.port, rooms: rooms, tally: tally,
        transport: ClientTransport(kind: kind, server: fixed, caFile: certificates + "/ca.pem"))
}

private func idleRun(_ kind: DanmuCollector.Configuration.Transport, rooms: Int, certificates: String)
    -> [BenchmarkFigure]
{
    let label = "transports.\(kind.rawValue).idle_\(rooms)"
    progress("transports: \(rooms) idle rooms over \(kind.rawValue)")
    do {
        let server = try SimulatorProcess(simulatorOptions(rooms: rooms, rate: 0.01, certificates: certificates))
        let tally = EventTally()
        let run = try client(kind, server: server, rooms: rooms, tally: tally, certificates: certificates)
        sleepSeconds(0.2)
        // The runs share this process: give back what the previous transport's run freed, or its pages (reused
        // by this run without growing RSS) would make this run look free.
        malloc_trim(0)
        let rssBefore = ProcessMetrics.residentBytes()
        let heapBefore = ProcessMetrics.heapBytes()
        let cpuBefore = ProcessMetrics.cpuSeconds()
        run.collector.add(rooms: 1...Int64(rooms))
        let connect = run.waitUntilLive(rooms, timeoutSeconds: 120)
        let connectCPU = ProcessMetrics.cpuSeconds() - cpuBefore
        sleepSeconds(2)  // heartbeats answered, first messages: the steady idle state
        let rssPerRoom = Double(ProcessMetrics.residentBytes() - rssBefore) / Double(rooms)
        let heapPerRoom = Double(ProcessMetrics.heapBytes() - heapBefore) / Double(rooms)
        let statistics = run.collector.statistics()
        run.collector.shutdown()
        _ = server.stop()
        return [
            BenchmarkFigure(
                name: "\(label).connect_all", value: connect ?? .nan, unit: "s",
                note: "\(statistics.roomsLive) live, \(statistics.errors) errors\(causes(statistics))"),
            BenchmarkFigure(name: "\(label).connect_cpu", value: connectCPU, unit: "s", note: "client, all rooms"),
            BenchmarkFigure(name: "\(label).rss_per_room", value: rssPerRoom, unit: "B", note: "idle, live"),
            BenchmarkFigure(name: "\(label).heap_per_room", value: heapPerRoom, unit: "B", note: "mallinfo2 delta"),
        ]
    } catch {
        return [BenchmarkFigure(name: label, value: .nan, unit: "", note: "failed: \(error)")]
    }
}

private func floodRun(_ kind: DanmuCollector.Configuration.Transport, rooms: Int, perRoom: Int, certificates: String)
    -> [BenchmarkFigure]
{
    let label = "transports.\(kind.rawValue).flood_\(rooms)x\(perRoom)"
    progress("transports: \(rooms) rooms × \(perRoom) danmaku flooded over \(kind.rawValue)")
    do {
        var options = simulatorOptions(rooms: rooms, rate: 0, certificates: certificates)
        options.limitPerRoom = perRoom
        let tally = EventTally()
        // The flood starts at each room's AUTH, so CPU is read from just before the rooms are added until the last
        // event (connects and handshakes included: 20 rooms, negligible next to the events).
        let server = try SimulatorProcess(options)
        let run = try client(kind, server: server, rooms: rooms, tally: tally, certificates: certificates)
        let cpuBefore = ProcessMetrics.cpuSeconds()
        let start = ProcessMetrics.monotonicNanoseconds()
        run.collector.add(rooms: 1...Int64(rooms))
        let expected = rooms * perRoom
        _ = run.waitForMessages(expected, timeoutSeconds: 300)
        let seconds = Double(ProcessMetrics.monotonicNanoseconds() - start) / 1e9
        let cpu = ProcessMetrics.cpuSeconds() - cpuBefore
        let events = tally.count
        let bytes = run.collector.statistics().bytesReceived
        run.collector.shutdown()
        let serverResult = server.stop()
        return [
            BenchmarkFigure(
                name: "\(label).client_cpu_per_event", value: events > 0 ? cpu / Double(events) * 1e6 : .nan,
                unit: "µs", note: "\(events)/\(expected) events, \(format(cpu)) s CPU"),
            BenchmarkFigure(name: "\(label).events_per_s", value: Double(events) / seconds, unit: "ev/s"),
            BenchmarkFigure(name: "\(label).bytes_per_event", value: Double(bytes) / Double(max(events, 1)), unit: "B"),
            BenchmarkFigure(name: "\(label).server_cpu", value: serverResult.cpuSeconds, unit: "s", note: "simulator"),
        ]
    } catch {
        return [BenchmarkFigure(name: label, value: .nan, unit: "", note: "failed: \(error)")]
    }
}

/// The most frequent last errors, for a run that had any: "; closed … ×12".
private func causes(_ statistics: CollectorStatistics) -> String {
    var counts: [String: Int] = [:]
    for room in statistics.rooms { if let error = room.lastError { counts["\(error)", default: 0] += 1 } }
    let top = counts.sorted { $0.value > $1.value }.prefix(2).map { "\($0.key) ×\($0.value)" }
    return top.isEmpty ? "" : "; " + top.joined(separator: "; ")
}
