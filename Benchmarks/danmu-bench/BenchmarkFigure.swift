/// One measured figure of a benchmark scenario: a median (or a single reading) with its unit.
struct BenchmarkFigure {
    var name: String
    var value: Double
    var unit: String
    var note: String = ""
}
