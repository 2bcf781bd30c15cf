/// The micro-benchmark scenarios written beside each component, gathered under one scenario name each.
func runCodecBenchmarks(quick: Bool) -> [BenchmarkFigure] {
    runInflateBenchmark(quick: quick) + runBrotliBenchmark(quick: quick) + runJSONBenchmark(quick: quick)
        + runProtocolBenchmark(quick: quick)
}

func runLoopBenchmarks(quick: Bool) -> [BenchmarkFigure] {
    runLoopBenchmark(quick: quick)
}
