import FeatureStore
import Foundation

/// Writes an `ABReport` as files: `report.html` (self-contained: inline CSS and SVG, no
/// scripts, no network), `report.md`, `report.json` (every number) and the CSV files
/// `survival_curves.csv`, `arms.csv` and `channels.csv`. Each file is written to a temporary
/// file beside its destination and renamed into place.
public enum ReportFiles {
    /// The files `write` produces.
    public static let names = ["report.html", "report.md", "report.json", "survival_curves.csv", "arms.csv", "channels.csv"]

    /// Writes every file into `directory` (created if missing).
    /// - Throws: `ReportError.cannotWrite` naming the path.
    public static func write(_ report: ABReport, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError.cannotWrite(directory, error.localizedDescription)
        }
        let contents: [(String, String)] = [
            ("report.json", try json(report)),
            ("report.md", ReportMarkdown.render(report)),
            ("report.html", ReportHTML.render(report)),
            ("survival_curves.csv", curvesCSV(report)),
            ("arms.csv", armsCSV(report)),
            ("channels.csv", channelsCSV(report)),
        ]
        for (name, text) in contents {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                try writeAtomically(Data(text.utf8), to: path)
            } catch {
                throw ReportError.cannotWrite(path, "\(error)")
            }
        }
    }

    /// `report.json`: pretty-printed, keys sorted.
    public static func json(_ report: ABReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// One line per life-table row per arm.
    static func curvesCSV(_ report: ABReport) -> String {
        var out = "arm,hours,at_risk,events,censored,survival,lower,upper\n"
        for arm in report.arms {
            for p in report.curves[arm.name] ?? [] {
                out += [csvField(arm.name), num(p.hours), String(p.atRisk), String(p.events), String(p.censored),
                        num(p.survival), num(p.lower), num(p.upper)].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    static func armsCSV(_ report: ABReport) -> String {
        let currencies = Set(report.arms.flatMap { Array($0.amountDueMinor.keys) + Array($0.costByCurrencyMinor.keys) }).sorted()
        var header = ["arm", "customers", "invoices", "paid", "censored", "median_hours", "median_ci_low_hours", "median_ci_high_hours"]
        for label in ["24h", "7d", "30d"] { header += ["paid_\(label)", "paid_\(label)_low", "paid_\(label)_high"] }
        header += ["rmst_hours", "rmst_se_hours", "tau_hours", "follow_up_hours", "messages"]
        for c in currencies { header += ["due_minor_\(c)", "collected_minor_\(c)", "cost_minor_\(c)", "cost_per_collected_\(c)"] }
        var out = header.joined(separator: ",") + "\n"
        for a in report.arms {
            var row = [csvField(a.name), String(a.customers), String(a.invoices), String(a.paid), String(a.censored),
                       opt(a.medianHours), opt(a.medianCI[0]), opt(a.medianCI[1])]
            for p in a.paidWithin { row += [opt(p.rate), opt(p.ci?[0]), opt(p.ci?[1])] }
            row += [num(a.rmstHours), num(a.rmstSE), num(report.tauHours), num(a.followUpHours), String(a.messages)]
            for c in currencies {
                row += [String(a.amountDueMinor[c] ?? 0), String(a.amountCollectedMinor[c] ?? 0), String(a.costByCurrencyMinor[c] ?? 0),
                        opt(a.costPerCollected[c] ?? nil)]
            }
            out += row.joined(separator: ",") + "\n"
        }
        return out
    }

    static func channelsCSV(_ report: ABReport) -> String {
        var out = "channel,messages,delivered,payments_after,cost_minor,cost_per_message_minor,median_hours,median_ci_low_hours,"
            + "median_ci_high_hours,paid_24h,paid_24h_low,paid_24h_high,rmst_hours,rmst_se_hours,tau_hours\n"
        for c in report.channels {
            out += [c.channel, String(c.messages), String(c.delivered), String(c.paymentsAfter), String(c.costMinor),
                    num(c.costPerMessageMinor), opt(c.medianHours), opt(c.medianCI[0]), opt(c.medianCI[1]),
                    opt(c.paidWithin24h.rate), opt(c.paidWithin24h.ci?[0]), opt(c.paidWithin24h.ci?[1]),
                    num(c.rmstHours), num(c.rmstSE), num(report.channelTauHours)].joined(separator: ",") + "\n"
        }
        return out
    }

    /// A number in Swift's shortest round-trip form.
    static func num(_ x: Double) -> String { "\(x)" }
    /// A number, or an empty field for nil.
    static func opt(_ x: Double?) -> String { x.map(num) ?? "" }

    /// Quotes a CSV field when it holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// Money in minor units as `EUR 1,234.56` (two decimals for every currency).
func formatMoney(_ minor: Int64, _ currency: String) -> String {
    let negative = minor < 0
    let m = minor.magnitude
    var whole = String(m / 100)
    var grouped = ""
    while whole.count > 3 {
        grouped = "," + whole.suffix(3) + grouped
        whole = String(whole.dropLast(3))
    }
    return "\(currency) \(negative ? "−" : "")\(whole)\(grouped).\(String(format: "%02d", Int(m % 100)))"
}

/// Amounts by currency, largest first: `EUR 1,234.56; GBP 12.00`.
func formatMoney(_ amounts: [String: Int64]) -> String {
    let parts = amounts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { formatMoney($0.value, $0.key) }
    return parts.isEmpty ? "–" : parts.joined(separator: "; ")
}

/// A rate with its interval: `82.1% (79.0–85.0%)`.
func formatRate(_ p: ArmStatistics.PaidWithin) -> String {
    guard let rate = p.rate else { return "beyond follow-up" }
    let ci = p.ci.map { String(format: " (%.1f–%.1f%%)", $0[0] * 100, $0[1] * 100) } ?? ""
    return String(format: "%.1f%%", rate * 100) + ci
}

/// A median with its interval: `3.4 d (2.9–4.0 d)`.
func formatMedian(_ median: Double?, _ ci: [Double?]) -> String {
    guard let median else { return "not reached" }
    let lo = ci[0].map(formatHours) ?? "–", hi = ci[1].map(formatHours) ?? "not reached"
    return "\(formatHours(median)) (\(lo) to \(hi))"
}

/// Cost per unit collected as cost per 100 collected: `0.42 per 100`.
func formatCostShare(_ values: [String: Double?]) -> String {
    let parts = values.keys.sorted().compactMap { c -> String? in
        guard let v = values[c] ?? nil else { return nil }
        return "\(c) " + String(format: "%.2f per 100", v * 100)
    }
    return parts.isEmpty ? "–" : parts.joined(separator: "; ")
}
