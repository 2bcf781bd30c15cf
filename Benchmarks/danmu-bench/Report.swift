import DanmuCodecs
import Glibc

/// Points for the SVG chart, gathered by the scale scenario and the threads baseline.
struct ChartData {
    enum Metric { case eventsPerSecond, bytesPerRoom }
    private(set) var points: [(series: String, metric: Metric, rooms: Int, value: Double)] = []

    mutating func add(series: String, metric: Metric, rooms: Int, value: Double) {
        guard value.isFinite else { return }
        points.append((series, metric, rooms, value))
    }

    var isEmpty: Bool { points.isEmpty }

    func chart() -> SVGChart {
        let colors = ["danmu (epoll)": "#1f77b4", "thread per room": "#d62728"]
        func panel(_ metric: Metric, _ title: String, _ unit: String) -> SVGChart.Panel {
            let names = Array(Set(points.map(\.series))).sorted()
            let series = names.map { name in
                SVGChart.Series(
                    label: name, color: colors[name] ?? "#555",
                    points: points.filter { $0.series == name && $0.metric == metric }
                        .map { (x: Double($0.rooms), y: $0.value) })
            }
            return SVGChart.Panel(title: title, unit: unit, series: series)
        }
        return SVGChart(
            title: "danmu vs one thread per room (1 msg/s per room, loopback simulator)",
            panels: [
                panel(.eventsPerSecond, "Events per second", "ev/s"),
                panel(.bytesPerRoom, "Memory per room", "RSS bytes"),
            ])
    }
}

/// The results of one invocation: printed as a table, written as JSON.
struct Report {
    var scenarios: [(name: String, figures: [BenchmarkFigure])] = []

    func printTable() {
        let rows = scenarios.flatMap { scenario in
            scenario.figures.map { [scenario.name, $0.name, formatValue($0.value), $0.unit, $0.note] }
        }
        let header = ["scenario", "figure", "value", "unit", "note"]
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < 4 { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                guard i < 4 else { return cell }
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 2 ? pad + cell : cell + pad  // numbers right-aligned
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "  ----")
        for row in rows { print(line(row)) }
    }

    func json(quick: Bool) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("tool")
        writer.string("danmu-bench")
        writer.key("quick")
        writer.bool(quick)
        writer.key("cores")
        writer.int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        writer.key("scenarios")
        writer.beginArray()
        for scenario in scenarios {
            writer.beginObject()
            writer.key("name")
            writer.string(scenario.name)
            writer.key("figures")
            writer.beginArray()
            for figure in scenario.figures {
                writer.beginObject()
                writer.key("name")
                writer.string(figure.name)
                writer.key("value")
                if figure.value.isFinite { writer.double(figure.value) } else { writer.null() }
                writer.key("unit")
                writer.string(figure.unit)
                writer.key("note")
                writer.string(figure.note)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes + [10]
    }

    private func formatValue(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if abs(value) >= 1_000 { return String(Int(value.rounded())) }
        if abs(value) >= 10 { return String((value * 10).rounded() / 10) }
        return String((value * 1000).rounded() / 1000)
    }
}

/// Writes `bytes` to `path` (truncating); returns false with a message on stderr if it cannot.
@discardableResult
func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        progress("cannot write \(path): errno \(errno)")
        return false
    }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        offset += n
    }
    return true
}
