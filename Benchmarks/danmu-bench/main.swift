// danmu-bench: named scenarios; `danmu-bench [--quick] [scenario...]` (no scenario: all).
let arguments = Array(CommandLine.arguments.dropFirst())
let quick = arguments.contains("--quick")
let selected = Set(arguments.filter { !$0.hasPrefix("--") })
let scenarios: [(name: String, run: (Bool) -> [BenchmarkFigure])] = [
    ("json", runJSONBenchmark),
    ("inflate", runInflateBenchmark),
    ("protocol", runProtocolBenchmark),
    ("loop", runLoopBenchmark),
    ("brotli", runBrotliBenchmark),
]
for scenario in scenarios where selected.isEmpty || selected.contains(scenario.name) {
    for figure in scenario.run(quick) {
        print("\(figure.name)\t\(String(figure.value))\t\(figure.unit)\t\(figure.note)")
    }
}
