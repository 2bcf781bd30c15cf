/// One measured figure of a benchmark scenario.
struct BenchmarkFigure {
    var name: String
    var value: Double
    var unit: String
    var note: String
}
