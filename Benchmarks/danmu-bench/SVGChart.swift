import Glibc

/// A small hand-written SVG line chart: one panel per metric, one line per series, x = room count (log scale).
/// No dependencies; the output opens in any browser.
struct SVGChart {
    struct Series {
        var label: String
        var color: String
        /// (room count, value) pairs; drawn in x order.
        var points: [(x: Double, y: Double)]
    }

    struct Panel {
        var title: String
        var unit: String
        var series: [Series]
    }

    var title: String
    var panels: [Panel]

    private let panelWidth = 460.0
    private let panelHeight = 300.0
    private let margin = (left: 70.0, right: 20.0, top: 40.0, bottom: 50.0)

    func render() -> String {
        let width = Double(panels.count) * panelWidth
        let height = panelHeight + 40
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="20" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

            """
        for (index, panel) in panels.enumerated() {
            svg += renderPanel(panel, originX: Double(index) * panelWidth, originY: 30)
        }
        svg += "</svg>\n"
        return svg
    }

    private func renderPanel(_ panel: Panel, originX: Double, originY: Double) -> String {
        let points = panel.series.flatMap(\.points)
        guard !points.isEmpty else { return "" }
        let plotLeft = originX + margin.left
        let plotRight = originX + panelWidth - margin.right
        let plotTop = originY + margin.top
        let plotBottom = originY + panelHeight - margin.bottom
        let xs = points.map { log10(max($0.x, 1)) }
        let xMin = xs.min()!, xMax = max(xs.max()!, xs.min()! + 1)
        let yMax = niceCeiling(points.map(\.y).max()! * 1.1)
        func px(_ x: Double) -> Double { plotLeft + (log10(max(x, 1)) - xMin) / (xMax - xMin) * (plotRight - plotLeft) }
        func py(_ y: Double) -> Double { plotBottom - y / yMax * (plotBottom - plotTop) }

        var out = "<g>\n"
        out +=
            "<text x=\"\(f(originX + panelWidth / 2))\" y=\"\(f(originY + 22))\" text-anchor=\"middle\" font-size=\"13\">"
        out += "\(escape(panel.title)) (\(escape(panel.unit)))</text>\n"
        // Axes and horizontal grid with labels.
        for step in 0...4 {
            let value = yMax * Double(step) / 4
            let y = py(value)
            out +=
                "<line x1=\"\(f(plotLeft))\" y1=\"\(f(y))\" x2=\"\(f(plotRight))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            out += "<text x=\"\(f(plotLeft - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label(value))</text>\n"
        }
        let xTicks = Set(points.map(\.x)).sorted()
        for x in xTicks {
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(plotBottom + 16))\" text-anchor=\"middle\">\(label(x))</text>\n"
        }
        out +=
            "<text x=\"\(f((plotLeft + plotRight) / 2))\" y=\"\(f(plotBottom + 34))\" text-anchor=\"middle\">rooms</text>\n"
        out +=
            "<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotBottom))\" x2=\"\(f(plotRight))\" y2=\"\(f(plotBottom))\" stroke=\"black\"/>\n"
        out +=
            "<line x1=\"\(f(plotLeft))\" y1=\"\(f(plotTop))\" x2=\"\(f(plotLeft))\" y2=\"\(f(plotBottom))\" stroke=\"black\"/>\n"
        // Lines, dots and a legend.
        for (index, series) in panel.series.enumerated() where !series.points.isEmpty {
            let sorted = series.points.sorted { $0.x < $1.x }
            let path = sorted.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for point in sorted {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3\" fill=\"\(series.color)\"/>\n"
            }
            let legendY = plotTop + 14 * Double(index)
            out +=
                "<rect x=\"\(f(plotLeft + 10))\" y=\"\(f(legendY - 9))\" width=\"10\" height=\"10\" fill=\"\(series.color)\"/>\n"
            out += "<text x=\"\(f(plotLeft + 26))\" y=\"\(f(legendY))\">\(escape(series.label))</text>\n"
        }
        out += "</g>\n"
        return out
    }

    private func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2.0, 2.5, 5.0, 10.0] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    private func label(_ value: Double) -> String {
        if value >= 1_000_000 { return trim(value / 1_000_000) + "M" }
        if value >= 1_000 { return trim(value / 1_000) + "k" }
        return trim(value)
    }

    private func trim(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    private func f(_ value: Double) -> String { String(Int((value * 10).rounded()) / 10) }

    private func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
