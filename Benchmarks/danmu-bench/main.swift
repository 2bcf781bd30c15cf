import Glibc

// danmu-bench: named scenarios against a simulator in a separate process; a table on stdout, JSON and an SVG chart
// on disk, progress on stderr.
//
//   swift run -c release danmu-bench [--quick] [--rooms 1000,5000,10000] [--runs N] [--seconds S]
//                                    [--subscribers N] [--rate R] [--json FILE] [--svg FILE] [scenario...]
//   scenarios: scale throughput latency churn codecs loop threads sinks realtime   (default: all);
//   codecs = inflate brotli json protocol, each also selectable alone

let usage = """
    usage: danmu-bench [--quick] [--rooms N,N,...] [--runs N] [--seconds S] [--subscribers N] [--rate R]
                       [--json FILE] [--svg FILE] [scenario...]
    scenarios: scale, throughput, latency, churn, codecs (= inflate brotli json protocol), loop, threads, sinks,
      realtime (--subscribers N, --rate R: SSE fan-out; default: all);
    transports (tcp vs ws vs wss: RSS per idle room, CPU per event; --rooms T,W,S: idle rooms of each),
      realtime-latency, realtime-flood (the two halves of realtime), floor (the minimal-scan client of issue 11),
      cli (danmu-cli listen as a child: latency to the line read, CPU per line vs the floor; needs danmu-cli built
      beside danmu-bench or $DANMU_CLI),
    cluster (3 danmu-cli nodes share --rooms N rooms through Redis, default 5000; needs the release danmu-cli),
      sqlite (the SQLite half of sinks alone: sink, bare-loop floor, Python, the sink's added latency):
      only when named
    """

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "serve-simulator" { serveSimulator(Array(arguments.dropFirst())) }
if arguments.first == "serve-subscribers" { serveSubscribers(Array(arguments.dropFirst())) }
if arguments.first == "exec-python" { execPython(Array(arguments.dropFirst())) }

var quick = false
var roomCounts: [Int]? = nil
var runs: Int? = nil
var seconds: Double? = nil
var jsonPath = "bench-results.json"
var svgPath = "bench-chart.svg"
var selected: [String] = []
var subscriberCount: Int? = nil
var realtimeRate: Double? = nil
let known = ["scale", "throughput", "latency", "churn", "codecs", "loop", "threads", "sinks", "realtime"]
/// Run only when named (not part of "all").
let optIn = ["sqlite", "transports", "realtime-latency", "realtime-flood", "cluster", "floor", "cli"]
let codecParts: [String: (Bool) -> [BenchmarkFigure]] = [
    "inflate": runInflateBenchmark, "brotli": runBrotliBenchmark, "json": runJSONBenchmark,
    "protocol": runProtocolBenchmark,
]

func fail(_ message: String) -> Never {
    progress(message)
    print(usage)
    exit(2)
}

while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    func value() -> String {
        guard !arguments.isEmpty else { fail("\(argument) needs a value") }
        return arguments.removeFirst()
    }
    switch argument {
    case "--quick": quick = true
    case "--rooms":
        let list = value().split(separator: ",").compactMap { Int($0) }
        guard !list.isEmpty, list.allSatisfy({ $0 > 0 }) else { fail("--rooms takes positive numbers, e.g. 1000,5000") }
        roomCounts = list
    case "--runs":
        guard let n = Int(value()), n > 0 else { fail("--runs takes a positive number") }
        runs = n
    case "--seconds":
        guard let s = Double(value()), s > 0 else { fail("--seconds takes a positive number") }
        seconds = s
    case "--subscribers":
        guard let n = Int(value()), n > 0, n <= 18_000 else {
            fail("--subscribers takes 1…18000 (the fd limit is 20,000)")
        }
        subscriberCount = n
    case "--rate":
        guard let r = Double(value()), r > 0 else { fail("--rate takes a positive number of messages per second") }
        realtimeRate = r
    case "--json": jsonPath = value()
    case "--svg": svgPath = value()
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        guard known.contains(argument) || optIn.contains(argument) || codecParts[argument] != nil else {
            fail("unknown scenario or option: \(argument)")
        }
        selected.append(argument)
    }
}
if selected.isEmpty { selected = known }

let scaleRooms = roomCounts ?? (quick ? [200, 1_000] : [1_000, 5_000, 10_000])
let threadRooms = roomCounts.map { $0.filter { $0 <= 5_000 } } ?? (quick ? [200, 1_000] : [1_000, 2_000, 5_000])
let runCount = runs ?? (quick ? 1 : 3)
let steadySeconds = seconds ?? (quick ? 1 : 10)

var report = Report()
var chart = ChartData()
for scenario in selected {
    switch scenario {
    case "scale":
        report.scenarios.append(
            ("scale", runScaleBenchmark(roomCounts: scaleRooms, seconds: steadySeconds, chart: &chart)))
    case "threads":
        report.scenarios.append(
            (
                "threads",
                runThreadsBaseline(
                    roomCounts: threadRooms, seconds: steadySeconds,
                    chart: &chart)
            ))
    case "throughput":
        report.scenarios.append(
            (
                "throughput",
                runThroughputBenchmark(
                    rooms: 100, limitPerRoom: quick ? 1_000 : 20_000,
                    runs: runCount, timeoutSeconds: quick ? 20 : 120)
            ))
    case "latency":
        report.scenarios.append(
            (
                "latency",
                runLatencyBenchmark(
                    rooms: quick ? 200 : 1_000, rate: 10,
                    seconds: steadySeconds)
            ))
    case "churn":
        // Full: 1,000 rooms × 2 msg/s, each connection closed after 40 messages (~20 s), for 120 s. Quick: 200 rooms
        // × 20 msg/s closed after 50 (~2.5 s, above BackoffPolicy.healthyAfter), for 12 s: four to five closes per
        // room, enough for an escalating backoff to show.
        report.scenarios.append(
            (
                "churn",
                runChurnBenchmark(
                    rooms: roomCounts?.first ?? (quick ? 200 : 1_000),
                    rate: quick ? 20 : 2, closeAfter: quick ? 50 : 40,
                    seconds: seconds ?? (quick ? 12 : 120))
            ))
    case "transports":
        report.scenarios.append(
            (
                "transports",
                runTransportBenchmark(
                    idleRooms: roomCounts ?? [quick ? 500 : 2_000], floodRooms: 20,
                    floodPerRoom: quick ? 2_000 : 20_000)
            ))
    case "codecs":
        progress("codecs")
        report.scenarios.append(("codecs", runCodecBenchmarks(quick: quick)))
    case "sinks":
        report.scenarios.append(("sinks", runSinksBenchmark(quick: quick, runs: runCount)))
    case "sqlite":
        report.scenarios.append(("sqlite", runSQLiteBenchmark(quick: quick, runs: runCount)))
    case "realtime", "realtime-latency", "realtime-flood":
        var options = RealtimeBenchmarkOptions.defaults(quick: quick)
        options.latency = scenario != "realtime-flood"
        options.flood = scenario != "realtime-latency"
        if let subscriberCount { options.subscribers = subscriberCount }
        if let realtimeRate { options.rate = realtimeRate }
        if let seconds { options.seconds = seconds }
        if let runs { options.runs = runs }
        report.scenarios.append((scenario, runRealtimeBenchmark(options)))
    case "cluster":
        report.scenarios.append(
            (
                "cluster",
                runClusterBenchmark(
                    rooms: roomCounts?.first ?? (quick ? 600 : 5_000), runs: runCount, ttl: quick ? 3 : 10,
                    rate: realtimeRate ?? 0.1)
            ))
    case "floor":
        report.scenarios.append(
            (
                "floor",
                runFloorBenchmark(
                    rooms: 100, limitPerRoom: quick ? 1_000 : 20_000, runs: runCount, timeoutSeconds: quick ? 20 : 120)
            ))
    case "cli":
        report.scenarios.append(
            (
                "cli",
                runCLIPathBenchmark(
                    latencyRooms: roomCounts?.first ?? (quick ? 200 : 1_000), rate: 10, seconds: steadySeconds,
                    floodRooms: 100, floodPerRoom: quick ? 1_000 : 20_000, runs: runCount)
            ))
    case "loop":
        progress("loop")
        report.scenarios.append(("loop", runLoopBenchmarks(quick: quick)))
    default:
        if let run = codecParts[scenario] {
            progress(scenario)
            report.scenarios.append((scenario, run(quick)))
        }
    }
}

report.printTable()
if writeFile(jsonPath, report.json(quick: quick)) { progress("results written to \(jsonPath)") }
if !chart.isEmpty, writeFile(svgPath, Array(chart.chart().render().utf8)) { progress("chart written to \(svgPath)") }
