/// The micro-benchmark scenarios written beside each component (codecs, the reactor), gathered under one name each.
func runCodecBenchmarks(quick: Bool) -> [BenchmarkFigure] {
    runJSONBenchmark(quick: quick)
}

func runLoopBenchmarks(quick: Bool) -> [BenchmarkFigure] {
    []
}
