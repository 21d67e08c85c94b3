import Foundation

/// The HTML rendering of a report: one self-contained page (inline CSS and SVG, no scripts, no
/// external resources) that reads on a phone: the verdict first, then the curves, the tables
/// and the channel breakdown. Tables have header cells with `scope`; charts have titles and
/// descriptions.
enum ReportHTML {
    static func render(_ r: ABReport) -> String {
        let pValue: Double = r.comparisons.count == 1 ? r.comparisons[0].logrankPValue : (r.logrank?.pValue ?? 1)
        let verdictClass: String
        if r.sampleRatio.mismatch {
            verdictClass = "alarm"
        } else if !r.tooSmall && pValue < 1 - r.level {
            verdictClass = "clear"
        } else {
            verdictClass = "caution"
        }
        var s = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>A/B report: \(escape(r.experiment))</title>
            <style>\(css)</style>
            </head>
            <body>
            <main>
            <header>
            <h1>A/B report: \(escape(r.experiment))</h1>
            <p class="meta">As of \(escape(r.asOf)) · control arm: <strong>\(escape(r.control))</strong> · \
            \(r.arms.map(\.invoices).reduce(0, +)) invoices of \(r.arms.map(\.customers).reduce(0, +)) customers</p>
            </header>
            <section id="verdict" class="verdict \(verdictClass)" aria-live="polite">
            <p id="verdict-text">\(escape(r.verdict))</p>

            """
        if !r.notes.isEmpty {
            s += "<ul class=\"notes\">\n" + r.notes.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        s += "</section>\n"

        // Survival curves.
        let maxHours = r.arms.map(\.followUpHours).max() ?? 1
        let curves = r.arms.map { a in
            SVGPlot.Curve(name: a.name, points: (r.curves[a.name] ?? []).map { ($0.hours, $0.survival, $0.lower, $0.upper) })
        }
        let medians = r.arms.map { "\($0.name): median \(formatDuration($0.medianHours))" }.joined(separator: "; ")
        s += figure(
            heading: "Time to pay by arm",
            caption: "Share of invoices still unpaid, days after their first decision in the experiment (Kaplan–Meier, shaded: 95% band). "
                + "A curve that falls faster means faster payment.",
            svg: SVGPlot.survival(id: "survival-plot", title: "Share of invoices still unpaid over time, by arm",
                                  description: "Kaplan–Meier curves with 95% log(−log) confidence bands. \(medians).",
                                  curves: curves, maxHours: maxHours))

        // Paid-within by arm.
        var armBars: [SVGPlot.Bar] = []
        for a in r.arms {
            for (k, label) in ["24 hours", "7 days", "30 days"].enumerated() {
                let p = a.paidWithin[k]
                armBars.append(SVGPlot.Bar(group: "within \(label)", series: a.name, value: p.rate, lower: p.ci?[0], upper: p.ci?[1]))
            }
        }
        s += figure(
            heading: "Paid within 24 hours, 7 days and 30 days",
            caption: "Share paid in full within each horizon of the first decision (from the Kaplan–Meier curve; whiskers: 95% interval).",
            svg: SVGPlot.bars(id: "arm-rates-plot", title: "Share paid within 24 hours, 7 days and 30 days, by arm",
                              description: r.arms.map { a in "\(a.name): " + a.paidWithin.map(formatRate).joined(separator: ", ") }.joined(separator: "; "),
                              bars: armBars, yLabel: "Paid"))

        s += section("Arms", table(ReportTables.arms(r), caption: "Key figures per arm", rowHeaders: true))
        if !r.comparisons.isEmpty {
            var body = table(ReportTables.comparisons(r), caption: "Each arm against the control; RMST up to \(formatHours(r.tauHours))", rowHeaders: true)
            if let lr = r.logrank, r.arms.count > 2 {
                body += "<p>Log-rank test over all arms: χ² = \(String(format: "%.3f", lr.statistic)), \(lr.degreesOfFreedom) df, p = \(formatPValue(lr.pValue)).</p>\n"
            }
            s += section("Against the control", body)
        }
        s += section("Sample ratio", "<p>Are the arms the size the configured split says? A p-value below 0.001 means assignment or logging is broken.</p>\n"
                     + table(ReportTables.sampleRatio(r), caption: "Sample-ratio-mismatch check (chi-square)", rowHeaders: true))

        // Channels.
        var channelBody = "<p>Time from each delivered message to the case's next payment, censored at the case's next delivered message or the as-of time.</p>\n"
        let delivered = r.channels.filter { $0.delivered > 0 }
        if !delivered.isEmpty {
            let bars = delivered.map { c in
                SVGPlot.Bar(group: c.channel, series: "paid within 24 h", value: c.paidWithin24h.rate, lower: c.paidWithin24h.ci?[0], upper: c.paidWithin24h.ci?[1])
            }
            channelBody += figure(
                heading: "Paid within 24 hours of delivery, by channel",
                caption: "Share of delivered messages followed by payment within 24 hours (Kaplan–Meier; whiskers: 95% interval).",
                svg: SVGPlot.bars(id: "channel-plot", title: "Share paid within 24 hours of delivery, by channel",
                                  description: delivered.map { "\($0.channel): \(formatRate($0.paidWithin24h))" }.joined(separator: "; "),
                                  bars: bars, yLabel: "Paid within 24 h"), level: 3)
            let currencies = Set(r.arms.flatMap { Array($0.costByCurrencyMinor.keys) })
            let unit = currencies.count == 1 ? currencies.first! : "minor units ÷ 100"
            let points = delivered.map { c in SVGPlot.Point(label: c.channel, x: c.costPerMessageMinor / 100, y: c.rmstHours / 24, weight: Double(c.delivered)) }
            channelBody += figure(
                heading: "Cost against time to pay, by channel",
                caption: "Cost per message against the mean days to payment after delivery (restricted to \(formatHours(r.channelTauHours))); "
                    + "dot size: delivered messages. Cheap and fast is bottom left.",
                svg: SVGPlot.scatter(id: "cost-plot", title: "Cost per message against mean time to pay, by channel",
                                     description: delivered.map { "\($0.channel): " + String(format: "cost %.2f, %.1f days", $0.costPerMessageMinor / 100, $0.rmstHours / 24) }
                                        .joined(separator: "; "),
                                     points: points, xLabel: "Cost per message (\(unit))", yLabel: "Mean days to pay",
                                     xFormat: { String(format: "%.2f", $0) }, yFormat: { SVGPlot.formatTick($0) }), level: 3)
        }
        channelBody += table(ReportTables.channels(r), caption: "Per-channel time to pay after delivery", rowHeaders: true)
        if !r.speedups.isEmpty {
            channelBody += "<h3>The product sheet's claims</h3>\n" + table(ReportTables.speedups(r), caption: "How much faster payment follows e-mail and SMS than a letter", rowHeaders: true)
        }
        s += section("Channels", channelBody)
        s += """
            <footer>
            <p>Kaplan–Meier with Greenwood variance and log(−log) 95% bands; median = first time the curve reaches 50%; \
            RMST = area under the curve up to the horizon; log-rank test as lifelines computes it. Invoices unpaid at the as-of time \
            count as censored, not as failures. Every figure is defined in docs/report.md; the numbers are in report.json and the CSV files.</p>
            </footer>
            </main>
            </body>
            </html>

            """
        return s
    }

    static func section(_ heading: String, _ body: String) -> String {
        "<section>\n<h2>\(escape(heading))</h2>\n\(body)</section>\n"
    }

    static func figure(heading: String, caption: String, svg: String, level: Int = 2) -> String {
        "<figure>\n<h\(level)>\(escape(heading))</h\(level)>\n\(svg)<figcaption>\(escape(caption))</figcaption>\n</figure>\n"
    }

    static func table(_ t: (header: [String], rows: [[String]]), caption: String, rowHeaders: Bool) -> String {
        var s = "<div class=\"table-wrap\"><table>\n<caption>\(escape(caption))</caption>\n<thead><tr>"
        s += t.header.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in t.rows {
            s += "<tr>"
            for (i, cell) in row.enumerated() {
                s += i == 0 && rowHeaders ? "<th scope=\"row\">\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
            }
            s += "</tr>\n"
        }
        return s + "</tbody>\n</table></div>\n"
    }

    static let css = """

        :root { color-scheme: light; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #f6f7f9; }
        main { max-width: 960px; margin: 0 auto; padding: 16px; }
        header h1 { font-size: 1.6rem; margin: 0.4em 0 0.1em; }
        .meta { color: #555; margin: 0 0 1em; font-size: 0.95rem; }
        section, figure { background: #fff; border-radius: 10px; padding: 12px 16px; margin: 0 0 16px; box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
        figure figure, section figure { box-shadow: none; padding: 0; margin: 12px 0; }
        h2 { font-size: 1.25rem; margin: 0.2em 0 0.5em; }
        h3 { font-size: 1.05rem; margin: 0.8em 0 0.4em; }
        .verdict { border-left: 8px solid #888; }
        .verdict p { font-size: 1.3rem; font-weight: 600; margin: 0.2em 0; }
        .verdict.clear { border-color: #009E73; }
        .verdict.caution { border-color: #E69F00; }
        .verdict.alarm { border-color: #D55E00; background: #fff4ef; }
        .notes { margin: 0.5em 0 0.2em; padding-left: 1.2em; color: #333; }
        svg.chart { width: 100%; height: auto; display: block; }
        svg.chart { max-width: 720px; margin: 0 auto; }
        svg .tick { font-size: 15px; fill: #444; }
        svg .axis-label { font-size: 16px; fill: #222; }
        svg .legend-text, svg .label { font-size: 17px; fill: #222; }
        svg .value { font-size: 15px; fill: #222; font-weight: 600; }
        svg .note { font-size: 14px; fill: #777; }
        figcaption { color: #555; font-size: 0.9rem; margin-top: 4px; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: 0.92rem; font-variant-numeric: tabular-nums; }
        caption { text-align: left; color: #555; font-size: 0.85rem; padding: 4px 0; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e5e8; vertical-align: top; }
        thead th { background: #f0f2f5; }
        tbody th { font-weight: 600; }
        footer { color: #555; font-size: 0.85rem; }
        @media (max-width: 600px) {
          main { padding: 6px; } section, figure { padding: 10px 8px; } figure figure { padding: 0; }
          .verdict p { font-size: 1.15rem; } table { font-size: 0.85rem; } th, td { padding: 5px 4px; }
        }

        """
}
