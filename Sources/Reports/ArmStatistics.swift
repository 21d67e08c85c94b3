import Foundation
import Optimizer

/// Time-to-pay statistics of an experiment's arms from right-censored durations: the figures
/// of an A/B report that do not need the store.
///
/// One `SurvivalAnalysis` over all arms gives each arm's Kaplan–Meier table and the log-rank
/// test; from the tables come medians with intervals, paid-within rates, RMST and the RMST
/// difference of every arm against the control. Conventions are lifelines 0.30.3's (Greenwood
/// variance, log(−log) bands, median = first time Ŝ ≤ 0.5); `docs/report.md` defines every figure.
///
/// ```swift
/// let stats = ArmStatistics(arms: ["control", "treatment"], durations: hours, events: paid,
///                           groups: armIndex, control: 0)
/// stats.arms[1].median.time            // hours
/// stats.comparisons[0].rmstDifference  // treatment − control, hours
/// stats.logRank?.pValue
/// ```
public struct ArmStatistics: Sendable {
    /// The survival figures of one arm.
    public struct Arm: Sendable {
        /// The arm's name.
        public var name: String
        /// Number of subjects (invoices).
        public var count: Int
        /// Observed events (full payments).
        public var events: Int
        /// The Kaplan–Meier life table.
        public var table: LifeTable
        /// The median time to pay with its interval (hours; nil where not reached).
        public var median: SurvivalQuantile
        /// Paid-within rates `1 − Ŝ(t)` at `ArmStatistics.horizons`.
        public var paidWithin: [PaidWithin]
        /// The restricted mean time to pay up to τ, with its variance.
        public var rmst: RestrictedMean
        /// The largest duration observed in the arm (its follow-up).
        public var followUp: Double
    }

    /// A paid-within rate from the Kaplan–Meier curve.
    public struct PaidWithin: Sendable, Equatable, Codable {
        /// The horizon `t` in hours.
        public var hours: Double
        /// `1 − Ŝ(t)`; nil when `t` lies beyond the arm's follow-up (the curve is not estimated there).
        public var rate: Double?
        /// `[1 − upper(t), 1 − lower(t)]` from the log(−log) band of Ŝ; nil with `rate`.
        public var ci: [Double]?

        public init(hours: Double, rate: Double?, ci: [Double]?) {
            self.hours = hours
            self.rate = rate
            self.ci = ci
        }

        enum CodingKeys: String, CodingKey { case hours, rate, ci }

        /// Writes `null` for a missing rate and interval (rather than leaving the keys out).
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(hours, forKey: .hours)
            try c.encode(rate, forKey: .rate)
            try c.encode(ci, forKey: .ci)
        }
    }

    /// One arm against the control: the RMST difference `μ_arm(τ) − μ_control(τ)`.
    public struct Comparison: Sendable, Equatable {
        /// The arm compared (never the control).
        public var arm: String
        /// The control arm.
        public var control: String
        /// `μ_arm(τ) − μ_control(τ)` in hours; negative means the arm pays sooner.
        public var rmstDifference: Double
        /// `√(Var μ_arm + Var μ_control)` (independent arms, Klein & Moeschberger variances).
        public var standardError: Double
        /// `difference ∓ z · standardError`.
        public var ci: [Double]
        /// Two-sided normal p-value of `difference / standardError`.
        public var pValue: Double
        /// The log-rank test of this arm against the control alone.
        public var logRank: LogRankTest
    }

    /// The paid-within horizons: 24 hours, 7 days and 30 days.
    public static let horizons: [Double] = [24, 168, 720]
    /// The default RMST horizon: 30 days.
    public static let defaultTau = 720.0

    /// The arms, in the order given.
    public let arms: [Arm]
    /// Index of the control arm in `arms`.
    public let control: Int
    /// The log-rank test over all arms (nil with one arm).
    public let logRank: LogRankTest?
    /// Every other arm against the control, in arm order.
    public let comparisons: [Comparison]
    /// The RMST horizon τ in hours.
    public let tau: Double
    /// The confidence level of every interval.
    public let level: Double

    /// Computes the statistics.
    /// - Parameters:
    ///   - arms: arm names; every arm must have at least one subject.
    ///   - durations: hours from the start of each subject to full payment or censoring (≥ 0).
    ///   - events: `true` where payment was observed.
    ///   - groups: each subject's arm, an index into `arms`.
    ///   - control: the index of the control arm.
    ///   - tau: the RMST horizon; nil takes `min(720 h, the smallest arm follow-up)` so every arm is
    ///     observed up to τ.
    ///   - level: the confidence level (0.95).
    /// - Complexity: O(n) for the sort and the tables, O(rows) per arm for the rest.
    public init(arms names: [String], durations: [Double], events: [Bool], groups: [Int], control: Int,
                tau: Double? = nil, level: Double = 0.95) {
        precondition(!names.isEmpty && control >= 0 && control < names.count, "ArmStatistics: control \(control) of \(names.count) arms")
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: names.count)
        let followUps = analysis.tables.map { $0.rows.last!.time }
        let horizon = tau ?? min(ArmStatistics.defaultTau, followUps.min()!)
        let z = LifeTable.criticalValue(level: level)
        arms = zip(names, analysis.tables).enumerated().map { g, pair in
            let (name, table) = pair
            let paid = ArmStatistics.horizons.map { ArmStatistics.paidWithin(table, hours: $0, z: z) }
            return Arm(name: name, count: table.count, events: table.eventCount, table: table,
                       median: table.median(level: level), paidWithin: paid,
                       rmst: table.restrictedMean(upTo: horizon), followUp: followUps[g])
        }
        self.control = control
        self.tau = horizon
        self.level = level
        logRank = analysis.logRank
        var comparisons: [Comparison] = []
        for g in names.indices where g != control {
            let a = arms[g].rmst, c = arms[control].rmst
            let difference = a.value - c.value
            let se = (a.variance + c.variance).squareRoot()
            let p = se > 0 ? SpecialFunctions.chiSquareSurvival(difference * difference / (se * se), degreesOfFreedom: 1) : .nan
            // The pairwise log-rank test: the two arms' subjects alone.
            var d: [Double] = [], e: [Bool] = [], k: [Int] = []
            for i in groups.indices where groups[i] == g || groups[i] == control {
                d.append(durations[i])
                e.append(events[i])
                k.append(groups[i] == control ? 0 : 1)
            }
            let pair = SurvivalAnalysis(durations: d, events: e, groups: k, groupCount: 2).logRank!
            comparisons.append(Comparison(arm: names[g], control: names[control], rmstDifference: difference,
                                          standardError: se, ci: [difference - z * se, difference + z * se],
                                          pValue: p, logRank: pair))
        }
        self.comparisons = comparisons
    }

    /// `1 − Ŝ(t)` with its band, or nil rate beyond the table's last time.
    static func paidWithin(_ table: LifeTable, hours t: Double, z: Double) -> PaidWithin {
        guard t <= table.rows.last!.time else { return PaidWithin(hours: t, rate: nil, ci: nil) }
        guard let k = table.row(at: t) else { return PaidWithin(hours: t, rate: 0, ci: [0, 0]) }
        let band = table.band(row: k, z: z)
        return PaidWithin(hours: t, rate: 1 - table.survival(row: k), ci: [1 - band.upper, 1 - band.lower])
    }

    /// The events needed by a two-arm log-rank test to detect hazard ratio `hazardRatio` with
    /// `power` at two-sided level `alpha`, with a share `p` of subjects in one arm (Schoenfeld
    /// 1981): `D = (z_{1−α/2} + z_{power})² / (p (1 − p) (log HR)²)`.
    public static func requiredEvents(hazardRatio: Double, allocation p: Double, alpha: Double = 0.05, power: Double = 0.8) -> Double {
        precondition(hazardRatio > 0 && hazardRatio != 1 && p > 0 && p < 1, "requiredEvents: HR \(hazardRatio), allocation \(p)")
        let zs = SpecialFunctions.normalQuantile(1 - alpha / 2) + SpecialFunctions.normalQuantile(power)
        let l = log(hazardRatio)
        return zs * zs / (p * (1 - p) * l * l)
    }

    /// The smallest hazard ratio (> 1) that `events` events detect with `power` at two-sided
    /// `alpha` (Schoenfeld's formula solved for HR): `exp((z_{1−α/2} + z_{power}) / √(p (1 − p) D))`.
    public static func detectableHazardRatio(events: Int, allocation p: Double, alpha: Double = 0.05, power: Double = 0.8) -> Double {
        precondition(p > 0 && p < 1, "detectableHazardRatio: allocation \(p)")
        guard events > 0 else { return .infinity }
        let zs = SpecialFunctions.normalQuantile(1 - alpha / 2) + SpecialFunctions.normalQuantile(power)
        return exp(zs / (p * (1 - p) * Double(events)).squareRoot())
    }
}

/// The sample-ratio-mismatch check: Pearson's chi-square goodness-of-fit of the arms' subject
/// counts against the configured split (scipy.stats.chisquare).
///
/// `χ² = Σ (O_g − E_g)² / E_g` with `E_g = N w_g / Σw`, `k − 1` degrees of freedom; a p-value
/// below `threshold` (0.001, the usual SRM alarm) flags a mismatch: assignment or logging is
/// broken and the comparison may be biased.
public struct SampleRatioCheck: Sendable, Equatable, Codable {
    /// The unit counted (customers).
    public var unit: String
    /// Arm names.
    public var arms: [String]
    /// Observed counts.
    public var observed: [Int]
    /// The configured shares (normalised to sum 1).
    public var expectedShares: [Double]
    /// `N · share`.
    public var expected: [Double]
    /// Pearson's statistic.
    public var statistic: Double
    /// `k − 1`.
    public var degreesOfFreedom: Int
    /// `P(χ²_{k−1} > statistic)`.
    public var pValue: Double
    /// The alarm level.
    public var threshold: Double
    /// `pValue < threshold`.
    public var mismatch: Bool

    enum CodingKeys: String, CodingKey {
        case unit, arms, observed, expectedShares = "expected_shares", expected, statistic
        case degreesOfFreedom = "degrees_of_freedom", pValue = "p_value", threshold, mismatch
    }

    /// Runs the check.
    /// - Parameters:
    ///   - arms: arm names.
    ///   - observed: subjects per arm.
    ///   - weights: the configured split, one positive weight per arm (e.g. `[50, 50]`).
    ///   - unit: what was counted.
    ///   - threshold: the p-value below which a mismatch is flagged.
    public init(arms: [String], observed: [Int], weights: [Double], unit: String = "customers", threshold: Double = 0.001) {
        precondition(arms.count == observed.count && weights.count == observed.count && !arms.isEmpty,
                     "SampleRatioCheck: \(arms.count) arms, \(observed.count) counts, \(weights.count) weights")
        precondition(weights.allSatisfy { $0 > 0 && $0.isFinite }, "SampleRatioCheck: weights must be positive")
        let total = weights.reduce(0, +)
        let n = Double(observed.reduce(0, +))
        self.unit = unit
        self.arms = arms
        self.observed = observed
        expectedShares = weights.map { $0 / total }
        expected = expectedShares.map { $0 * n }
        var chi = 0.0
        for (o, e) in zip(observed, expected) where e > 0 { chi += (Double(o) - e) * (Double(o) - e) / e }
        statistic = chi
        degreesOfFreedom = arms.count - 1
        pValue = arms.count > 1 ? SpecialFunctions.chiSquareSurvival(chi, degreesOfFreedom: arms.count - 1) : 1
        self.threshold = threshold
        mismatch = pValue < threshold
    }
}
