import Foundation

/// The tables of the report as text, shared by the HTML and Markdown renderings.
enum ReportTables {
    /// Key figures: one row per figure, one column per arm.
    static func arms(_ r: ABReport) -> (header: [String], rows: [[String]]) {
        let header = ["Figure"] + r.arms.map(\.name)
        var rows: [[String]] = []
        func row(_ label: String, _ value: (ABReport.Arm) -> String) { rows.append([label] + r.arms.map(value)) }
        row("Customers") { String($0.customers) }
        row("Invoices (cases)") { String($0.invoices) }
        row("Paid in full") { "\($0.paid) (\(String(format: "%.1f%%", 100 * Double($0.paid) / Double(max($0.invoices, 1)))))" }
        row("Median time to pay (95% CI)") { formatMedian($0.medianHours, $0.medianCI) }
        for (k, label) in ["24 hours", "7 days", "30 days"].enumerated() {
            row("Paid within \(label) (95% CI)") { formatRate($0.paidWithin[k]) }
        }
        row("Mean time to pay within \(formatHours(r.tauHours)) (RMST ± SE)") { "\(formatHours($0.rmstHours)) ± \(formatHours($0.rmstSE))" }
        row("Amount due") { formatMoney($0.amountDueMinor) }
        row("Amount collected") { formatMoney($0.amountCollectedMinor) }
        row("Messages sent") { a in
            a.messages == 0 ? "0" : "\(a.messages): " + a.messagesByChannel.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        row("Cost of messages") { formatMoney($0.costByCurrencyMinor) }
        row("Cost per amount collected") { formatCostShare($0.costPerCollected) }
        return (header, rows)
    }

    /// Each arm against the control.
    static func comparisons(_ r: ABReport) -> (header: [String], rows: [[String]]) {
        let header = ["Comparison", "RMST difference (95% CI)", "p (RMST)", "Log-rank χ²", "p (log-rank)", "Hazard ratio (O/E)"]
        let rows = r.comparisons.map { c -> [String] in
            let v = formatSignedHours([c.rmstDifferenceHours, c.rmstDifferenceCI[0], c.rmstDifferenceCI[1]])
            return ["\(c.arm) − \(c.control)", "\(v[0]) (\(v[1]) to \(v[2]))",
             formatPValue(c.rmstDifferencePValue), String(format: "%.2f", c.logrankStatistic), formatPValue(c.logrankPValue),
             String(format: "%.2f", c.observedOverExpected[0] / c.observedOverExpected[1])]
        }
        return (header, rows)
    }

    static func sampleRatio(_ r: ABReport) -> (header: [String], rows: [[String]]) {
        let s = r.sampleRatio
        let header = ["Arm", "Customers", "Expected", "Configured share"]
        var rows = s.arms.indices.map { i in
            [s.arms[i], String(s.observed[i]), String(format: "%.1f", s.expected[i]), String(format: "%.1f%%", s.expectedShares[i] * 100)]
        }
        rows.append(["χ² = " + String(format: "%.3f", s.statistic) + ", \(s.degreesOfFreedom) df", "p = " + formatPValue(s.pValue),
                     s.mismatch ? "MISMATCH (p < \(formatPValue(s.threshold)))" : "no mismatch", ""])
        return (header, rows)
    }

    static func channels(_ r: ABReport) -> (header: [String], rows: [[String]]) {
        let header = ["Channel", "Messages", "Delivered", "Payments after", "Median time to pay (95% CI)", "Paid within 24 h of delivery (95% CI)",
                      "Mean time to pay within \(formatHours(r.channelTauHours))", "Cost per message"]
        let currency = r.arms.flatMap { Array($0.costByCurrencyMinor.keys) }.first ?? ""
        let single = Set(r.arms.flatMap { Array($0.costByCurrencyMinor.keys) }).count <= 1
        let rows = r.channels.map { c in
            [c.channel, String(c.messages), String(c.delivered), String(c.paymentsAfter), formatMedian(c.medianHours, c.medianCI),
             formatRate(c.paidWithin24h), c.delivered > 0 ? formatHours(c.rmstHours) : "–",
             single ? "\(currency) " + String(format: "%.2f", c.costPerMessageMinor / 100) : String(format: "%.2f (minor units)", c.costPerMessageMinor)]
        }
        return (header, rows)
    }

    static func speedups(_ r: ABReport) -> (header: [String], rows: [[String]]) {
        let header = ["Claim", "Claimed", "Median ratio", "Mean (RMST) ratio", "Paid-within-24 h ratio"]
        func x(_ v: Double?) -> String { v.map { String(format: "%.2f×", $0) } ?? "–" }
        let rows = r.speedups.map { s in
            ["Payment after \(s.channel) vs after a \(s.baseline)", String(format: "%.1f× faster", s.claimed), x(s.medianRatio), x(s.rmstRatio), x(s.paid24hRatio)]
        }
        return (header, rows)
    }
}

/// The Markdown rendering of a report.
enum ReportMarkdown {
    static func render(_ r: ABReport) -> String {
        var s = "# A/B report: \(r.experiment)\n\n"
        s += "As of \(r.asOf) · control arm: \(r.control) · \(r.arms.map(\.invoices).reduce(0, +)) invoices\n\n"
        s += "**\(r.verdict)**\n\n"
        for n in r.notes { s += "- \(n)\n" }
        if !r.notes.isEmpty { s += "\n" }
        s += "## Arms\n\n" + table(ReportTables.arms(r)) + "\n"
        if !r.comparisons.isEmpty { s += "## Against the control\n\n" + table(ReportTables.comparisons(r)) + "\n" }
        if let lr = r.logrank {
            s += "Log-rank test over all arms: χ² = \(String(format: "%.3f", lr.statistic)), \(lr.degreesOfFreedom) df, p = \(formatPValue(lr.pValue)).\n\n"
        }
        s += "## Sample ratio\n\n" + table(ReportTables.sampleRatio(r)) + "\n"
        s += "## Channels\n\nTime from each delivered message to the case's next payment (censored at the next delivered message "
            + "or the as-of time).\n\n" + table(ReportTables.channels(r)) + "\n"
        if !r.speedups.isEmpty { s += "### The product sheet's claims\n\n" + table(ReportTables.speedups(r)) + "\n" }
        s += "Plots: report.html. Numbers: report.json, arms.csv, channels.csv, survival_curves.csv. Definitions: docs/report.md.\n"
        return s
    }

    static func table(_ t: (header: [String], rows: [[String]])) -> String {
        func line(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return line(t.header) + line(t.header.map { _ in "---" }) + t.rows.map(line).joined()
    }
}
