import Foundation

/// Small SVG charts for the HTML report: step-function survival curves with bands, bars with
/// interval whiskers, and a labelled scatter. Each chart is one self-contained `<svg>` element
/// with a `viewBox` (it scales to the page width), a `<title>` and `<desc>` referenced by
/// `aria-labelledby`, and classes the tests look for (`curve`, `band`, `bar`, `whisker`, `point`).
enum SVGPlot {
    /// Colours that stay apart for colour-blind readers (Okabe & Ito 2008).
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    /// Sized for a phone first: on a 380-pixel-wide screen the 14-pixel text is still about 9 pixels.
    static let width = 600.0, height = 380.0
    static let left = 60.0, right = 16.0, top = 44.0, bottom = 52.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// A survival curve to draw.
    struct Curve {
        var name: String
        /// (time, survival, lower, upper) rows of a life table, time ascending from 0.
        var points: [(t: Double, s: Double, lo: Double, hi: Double)]
    }

    /// Kaplan–Meier step functions with their bands; x in days, y the share still unpaid.
    static func survival(id: String, title: String, description: String, curves: [Curve], maxHours: Double,
                         xLabel: String = "Days since the first decision in the experiment") -> String {
        let xMaxDays = max(maxHours / 24, 1e-9)
        let ticks = niceTicks(upTo: xMaxDays)
        let xMax = ticks.last!
        func x(_ hours: Double) -> Double { left + min(hours / 24, xMax) / xMax * plotWidth }
        func y(_ s: Double) -> Double { top + (1 - s) * plotHeight }
        var svg = open(id: id, title: title, description: description)
        svg += grid(xTicks: ticks.map { (x($0 * 24), formatTick($0)) },
                    yTicks: stride(from: 0.0, through: 1.0, by: 0.25).map { (y($0), String(format: "%.0f%%", $0 * 100)) },
                    xLabel: xLabel, yLabel: "Still unpaid")
        for (k, curve) in curves.enumerated() {
            let colour = palette[k % palette.count]
            let steps = thin(curve.points, x: x)
            // Band: the upper edge forward, the lower edge back, as step functions.
            var upper = "", lower: [String] = []
            for (i, p) in steps.enumerated() {
                let px = x(p.t), nx = i + 1 < steps.count ? x(steps[i + 1].t) : px
                upper += (i == 0 ? "M" : "L") + "\(f(px)),\(f(y(p.hi)))L\(f(nx)),\(f(y(p.hi)))"
                lower.append("L\(f(nx)),\(f(y(p.lo)))L\(f(px)),\(f(y(p.lo)))")
            }
            svg += "<path class=\"band\" data-arm=\"\(escape(curve.name))\" d=\"\(upper)\(lower.reversed().joined())Z\" fill=\"\(colour)\" fill-opacity=\"0.16\" stroke=\"none\"/>\n"
            var d = ""
            for (i, p) in steps.enumerated() {
                let px = x(p.t)
                d += i == 0 ? "M\(f(px)),\(f(y(p.s)))" : "V\(f(y(p.s)))"
                let nx = i + 1 < steps.count ? x(steps[i + 1].t) : px
                d += "H\(f(nx))"
            }
            svg += "<path class=\"curve\" data-arm=\"\(escape(curve.name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>\n"
        }
        svg += legend(curves.map(\.name))
        return svg + "</svg>\n"
    }

    /// Merges the steps that fall within a quarter of a unit of x of each other, keeping each
    /// run's last value (so a curve of a million rows stays a path of at most ~2,600 steps).
    static func thin(_ points: [(t: Double, s: Double, lo: Double, hi: Double)], x: (Double) -> Double)
        -> [(t: Double, s: Double, lo: Double, hi: Double)] {
        var out: [(t: Double, s: Double, lo: Double, hi: Double)] = []
        for p in points {
            if let last = out.last, (x(p.t) - x(last.t)) < 0.25, out.count > 1 {
                out[out.count - 1] = (last.t, p.s, p.lo, p.hi)
            } else {
                out.append(p)
            }
        }
        return out
    }

    /// A bar with an interval.
    struct Bar {
        var group: String
        var series: String
        var value: Double?
        var lower: Double?
        var upper: Double?
    }

    /// Grouped bars of rates in [0, 1] with interval whiskers; one colour per series.
    static func bars(id: String, title: String, description: String, bars: [Bar], yLabel: String) -> String {
        var groups: [String] = [], series: [String] = []
        for b in bars {
            if !groups.contains(b.group) { groups.append(b.group) }
            if !series.contains(b.series) { series.append(b.series) }
        }
        func y(_ v: Double) -> Double { top + (1 - v) * plotHeight }
        let slot = plotWidth / Double(max(groups.count, 1))
        let barWidth = min(56, slot * 0.8 / Double(max(series.count, 1)))
        var svg = open(id: id, title: title, description: description)
        svg += grid(xTicks: [], yTicks: stride(from: 0.0, through: 1.0, by: 0.25).map { (y($0), String(format: "%.0f%%", $0 * 100)) },
                    xLabel: "", yLabel: yLabel)
        for (gi, g) in groups.enumerated() {
            let centre = left + slot * (Double(gi) + 0.5)
            svg += "<text x=\"\(f(centre))\" y=\"\(f(top + plotHeight + 20))\" text-anchor=\"middle\" class=\"tick\">\(escape(g))</text>\n"
            let start = centre - barWidth * Double(series.count) / 2
            for (si, s) in series.enumerated() {
                guard let b = bars.first(where: { $0.group == g && $0.series == s }) else { continue }
                let bx = start + barWidth * Double(si)
                let colour = palette[(series.count == 1 ? gi : si) % palette.count]
                guard let v = b.value else {
                    svg += "<text x=\"\(f(bx + barWidth / 2))\" y=\"\(f(y(0) - 6))\" text-anchor=\"middle\" class=\"note\">n/a</text>\n"
                    continue
                }
                svg += "<rect class=\"bar\" data-group=\"\(escape(g))\" data-series=\"\(escape(s))\" x=\"\(f(bx + 3))\" y=\"\(f(y(v)))\" "
                    + "width=\"\(f(barWidth - 6))\" height=\"\(f(max(0, y(0) - y(v))))\" fill=\"\(colour)\"><title>\(escape(s)), \(escape(g)): "
                    + String(format: "%.1f%%", v * 100)
                    + (b.lower != nil ? String(format: " (%.1f–%.1f%%)", b.lower! * 100, b.upper! * 100) : "") + "</title></rect>\n"
                if let lo = b.lower, let hi = b.upper {
                    let cx = bx + barWidth / 2
                    svg += "<path class=\"whisker\" d=\"M\(f(cx)),\(f(y(lo)))V\(f(y(hi)))M\(f(cx - 6)),\(f(y(lo)))H\(f(cx + 6))"
                        + "M\(f(cx - 6)),\(f(y(hi)))H\(f(cx + 6))\" stroke=\"#222\" stroke-width=\"1.5\" fill=\"none\"/>\n"
                }
                let labelY = min(y(v), b.upper.map(y) ?? y(v)) - 6
                svg += "<text x=\"\(f(bx + barWidth / 2))\" y=\"\(f(max(top + 10, labelY)))\" text-anchor=\"middle\" class=\"value\">"
                    + String(format: "%.0f%%", v * 100) + "</text>\n"
            }
        }
        if series.count > 1 { svg += legend(series, boxes: true) }
        return svg + "</svg>\n"
    }

    /// A labelled point.
    struct Point {
        var label: String
        var x: Double
        var y: Double
        /// Relative size (e.g. number of messages).
        var weight: Double
    }

    /// A scatter of labelled points, axes from zero.
    static func scatter(id: String, title: String, description: String, points: [Point], xLabel: String, yLabel: String,
                        xFormat: (Double) -> String, yFormat: (Double) -> String) -> String {
        let xTicks = niceTicks(upTo: max(points.map(\.x).max() ?? 1, 1e-9))
        let yTicks = niceTicks(upTo: max(points.map(\.y).max() ?? 1, 1e-9))
        let xMax = xTicks.last!, yMax = yTicks.last!
        func x(_ v: Double) -> Double { left + v / xMax * plotWidth }
        func y(_ v: Double) -> Double { top + (1 - v / yMax) * plotHeight }
        var svg = open(id: id, title: title, description: description)
        svg += grid(xTicks: xTicks.map { (x($0), xFormat($0)) }, yTicks: yTicks.map { (y($0), yFormat($0)) }, xLabel: xLabel, yLabel: yLabel)
        let heaviest = max(points.map(\.weight).max() ?? 1, 1)
        for (k, p) in points.enumerated() {
            let r = 5 + 9 * (p.weight / heaviest).squareRoot()
            let colour = palette[k % palette.count]
            svg += "<circle class=\"point\" data-label=\"\(escape(p.label))\" cx=\"\(f(x(p.x)))\" cy=\"\(f(y(p.y)))\" r=\"\(f(r))\" "
                + "fill=\"\(colour)\" fill-opacity=\"0.8\" stroke=\"#fff\"><title>\(escape(p.label)): \(escape(xFormat(p.x))), \(escape(yFormat(p.y)))</title></circle>\n"
            // Labels above the point for even entries and below for odd ones, so neighbours do not collide.
            let anchor = x(p.x) > left + plotWidth * 0.8 ? "end" : "start"
            let dx = anchor == "end" ? -(r * 0.7) : r * 0.7
            let dy = k % 2 == 0 ? -(r + 4) : r + 15
            svg += "<text x=\"\(f(x(p.x) + dx))\" y=\"\(f(y(p.y) + dy))\" text-anchor=\"\(anchor)\" class=\"label\">\(escape(p.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    // MARK: - Pieces

    static func open(id: String, title: String, description: String) -> String {
        "<svg id=\"\(id)\" class=\"chart\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" "
            + "aria-labelledby=\"\(id)-title \(id)-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n"
            + "<title id=\"\(id)-title\">\(escape(title))</title>\n<desc id=\"\(id)-desc\">\(escape(description))</desc>\n"
    }

    static func grid(xTicks: [(Double, String)], yTicks: [(Double, String)], xLabel: String, yLabel: String) -> String {
        var s = "<g class=\"axes\">\n"
        for (py, label) in yTicks {
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotWidth))\" y1=\"\(f(py))\" y2=\"\(f(py))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py + 4))\" text-anchor=\"end\" class=\"tick\">\(escape(label))</text>\n"
        }
        for (px, label) in xTicks {
            s += "<line x1=\"\(f(px))\" x2=\"\(f(px))\" y1=\"\(f(top))\" y2=\"\(f(top + plotHeight))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(px))\" y=\"\(f(top + plotHeight + 20))\" text-anchor=\"middle\" class=\"tick\">\(escape(label))</text>\n"
        }
        s += "<path d=\"M\(f(left)),\(f(top))V\(f(top + plotHeight))H\(f(left + plotWidth))\" stroke=\"#555\" fill=\"none\"/>\n"
        if !xLabel.isEmpty {
            s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\" class=\"axis-label\">\(escape(xLabel))</text>\n"
        }
        s += "<text transform=\"translate(16,\(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(escape(yLabel))</text>\n"
        return s + "</g>\n"
    }

    /// A legend in one row above the plot area.
    static func legend(_ names: [String], boxes: Bool = false) -> String {
        var s = "<g class=\"legend\">\n"
        var x = left
        let y = 20.0
        for (k, name) in names.enumerated() {
            let colour = palette[k % palette.count]
            s += boxes
                ? "<rect x=\"\(f(x))\" y=\"\(f(y - 7))\" width=\"22\" height=\"14\" fill=\"\(colour)\"/>"
                : "<line x1=\"\(f(x))\" x2=\"\(f(x + 22))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"\(colour)\" stroke-width=\"4\"/>"
            s += "<text x=\"\(f(x + 28))\" y=\"\(f(y + 5))\" class=\"legend-text\">\(escape(name))</text>\n"
            x += 28 + 10 * Double(name.count) + 24
        }
        return s + "</g>\n"
    }

    /// Round tick values from 0 covering `upTo` (1, 2, 2.5 or 5 × 10^k apart, 4–8 ticks).
    static func niceTicks(upTo maximum: Double) -> [Double] {
        let raw = maximum / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = [0]
        while ticks.last! < maximum - 1e-12 * maximum { ticks.append(Double(ticks.count) * step) }
        return ticks
    }

    static func formatTick(_ v: Double) -> String {
        v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }

    /// A coordinate with two decimals.
    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// Escapes text for HTML/SVG content and attributes.
func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
