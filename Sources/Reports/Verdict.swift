import Foundation

/// The report's conclusion in words: one verdict sentence and plain notes.
///
/// Two arms: significant when the pairwise log-rank p-value is below `1 − level`; the direction
/// comes from observed ÷ expected payments (the arm whose O/E is larger pays faster). Otherwise
/// "No significant difference yet", and the experiment is called too small to conclude when it
/// has fewer payments than Schoenfeld's formula needs to detect a hazard ratio of 1.25 with 80 %
/// power. Any arm with fewer than 10 payments is too small either way. More arms: the log-rank
/// test over all arms.
enum Verdict {
    static func make(arms: [ABReport.Arm], comparisons: [ABReport.Comparison], logrank: ABReport.LogRank?,
                     power: ABReport.Power?, sampleRatio: SampleRatioCheck, tau: Double, level: Double,
                     data: ExperimentData) -> (String, [String], Bool) {
        let alpha = 1 - level
        var notes: [String] = []
        var tooSmall = false
        let minPaid = arms.map(\.paid).min() ?? 0
        if arms.count < 2 {
            return ("Only one arm ('\(arms.first?.name ?? "")') is in the experiment: there is nothing to compare.",
                    ["Every case of experiment '\(data.experiment)' carries the same arm."], true)
        }
        if minPaid < 10 {
            tooSmall = true
            notes.append("Too small to conclude: arm '\(arms.min { $0.paid < $1.paid }!.name)' has only \(minPaid) payments; "
                         + "at least 10 per arm are needed before the curves mean much.")
        }
        // Power matters for a result that is not significant (a miss may be a small sample); a
        // significant difference has already shown itself.
        let significant = arms.count == 2 ? (comparisons.first.map { $0.logrankPValue < alpha } ?? false)
            : (logrank.map { $0.pValue < alpha } ?? false)
        if let power, !significant, Double(power.events) < power.requiredEvents {
            tooSmall = true
            notes.append(String(format: "Too small to conclude: %d payments so far; about %.0f are needed to detect a 25 %% faster "
                                + "payment rate (hazard ratio 1.25) with 80 %% power. With the payments so far only a hazard ratio "
                                + "beyond %.2f would reliably show.", power.events, power.requiredEvents.rounded(.up),
                                power.detectableHazardRatio))
        }
        var verdict: String
        if arms.count == 2, let c = comparisons.first {
            let a = arms[1], ctl = arms[0]
            let medians = "median \(formatDurationPair(a.medianHours, ctl.medianHours))"
            let p = formatP(c.logrankPValue)
            if c.logrankPValue < alpha {
                let faster = c.observedOverExpected[0] > c.observedOverExpected[1]
                let subject = c.control == "control" ? capitalised(a.name) : "\(capitalised(a.name)) (vs \(ctl.name))"
                verdict = "\(subject) pays \(faster ? "faster" : "slower"): \(medians) (log-rank \(p))."
            } else {
                verdict = "No significant difference yet between \(a.name) and \(ctl.name): \(medians) (log-rank \(p))."
                let ci = c.rmstDifferenceCI
                if ci[0] < 0 && ci[1] > 0 {
                    let bounds = formatSignedHours([ci[0], ci[1]])
                    notes.append("The difference in mean time to pay within \(formatHours(tau)) lies between "
                                 + "\(bounds[0]) and \(bounds[1]) "
                                 + "(\(String(format: "%.0f", level * 100)) % interval): it spans zero.")
                }
            }
        } else {
            let fastest = arms.min { $0.rmstHours < $1.rmstHours }!
            if let logrank, logrank.pValue < alpha {
                verdict = "The \(arms.count) arms differ (log-rank \(formatP(logrank.pValue)), \(logrank.degreesOfFreedom) df): "
                    + "\(fastest.name) pays fastest, median \(formatDuration(fastest.medianHours))."
            } else {
                verdict = "No significant difference yet between the \(arms.count) arms (log-rank \(formatP(logrank?.pValue ?? 1)))."
            }
        }
        if sampleRatio.mismatch {
            notes.insert("Sample ratio mismatch: the arms hold \(sampleRatio.observed.map(String.init).joined(separator: " / ")) "
                         + "\(sampleRatio.unit) where the configured split expects "
                         + sampleRatio.expected.map { String(format: "%.0f", $0) }.joined(separator: " / ")
                         + " (chi-square p = \(formatPValue(sampleRatio.pValue))). Assignment or logging is broken; "
                         + "do not trust the comparison until it is explained.", at: 0)
        }
        for a in arms where a.followUpHours < tau {
            notes.append("Arm '\(a.name)' is followed for only \(formatHours(a.followUpHours)), less than the RMST horizon.")
        }
        if data.customersInSeveralArms > 0 {
            notes.append("\(data.customersInSeveralArms) customers have cases in more than one arm.")
        }
        if data.paidBeforeStart > 0 {
            notes.append("\(data.paidBeforeStart) cases were already paid before their first decision in the experiment and are left out.")
        }
        return (verdict, notes, tooSmall)
    }
}

/// `p = 0.003`, `p < 0.001`, `p = 0.41`.
func formatP(_ p: Double) -> String {
    p.isNaN ? "p not available" : p < 0.001 ? "p < 0.001" : "p = " + formatPValue(p)
}

/// A p-value as `0.003` below 0.01, `0.41` above, in scientific form below 0.001.
func formatPValue(_ p: Double) -> String {
    if p.isNaN { return "n/a" }
    if p < 0.001 { return String(format: "%.1e", p) }
    if p < 0.01 { return String(format: "%.3f", p) }
    return String(format: "%.2f", p)
}

/// Hours as days (`3.4 d`) from 48 h on, else hours (`5.2 h`).
func formatHours(_ h: Double) -> String {
    h >= 48 ? String(format: "%.1f d", h / 24) : String(format: "%.1f h", h)
}

func formatSignedHours(_ h: Double) -> String {
    (h >= 0 ? "+" : "−") + formatHours(abs(h))
}

/// Signed durations in one unit (days when any is 48 h or more): `−5.3 d to +1.4 d`.
func formatSignedHours(_ values: [Double]) -> [String] {
    let days = values.contains { abs($0) >= 48 }
    return values.map { (($0 >= 0 ? "+" : "−") + (days ? String(format: "%.1f d", abs($0) / 24) : String(format: "%.1f h", abs($0)))) }
}

/// A median or "not reached".
func formatDuration(_ h: Double?) -> String { h.map(formatHours) ?? "not reached" }

/// Two medians in the same unit: `2.1 d vs 3.4 d`.
func formatDurationPair(_ a: Double?, _ b: Double?) -> String {
    let days = [a, b].compactMap { $0 }.contains { $0 >= 48 }
    func one(_ h: Double?) -> String {
        guard let h else { return "not reached" }
        return days ? String(format: "%.1f d", h / 24) : String(format: "%.1f h", h)
    }
    return "\(one(a)) vs \(one(b))"
}

func capitalised(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
