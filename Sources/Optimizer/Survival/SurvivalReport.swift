/// The result of `pom-train survival` (SPEC §5): per-group Kaplan–Meier summaries and the
/// log-rank test, shaped for JSON. Keys are snake_case; nil encodes as `null` (a median or a
/// bound that is never reached, or no log-rank test with a single group).
public struct SurvivalReport: Codable, Sendable, Equatable {
    /// Summary of one group.
    public struct Group: Codable, Sendable, Equatable {
        /// Subjects.
        public var n: Int
        /// Observed events (payments).
        public var events: Int
        /// Median time to event, `min{t : Ŝ(t) ≤ 0.5}`.
        public var median: Double?
        /// Confidence interval of the median from the log(−log) band.
        public var medianCI: [Double?]
        /// `Ŝ(t)` at each requested time.
        public var survivalAt: [Double]
        /// Confidence band `[lower, upper]` of `Ŝ(t)` at each requested time.
        public var survivalCI: [[Double]]
        /// Nelson–Aalen `Ĥ(t)` at each requested time.
        public var cumulativeHazardAt: [Double]
        /// Share paid by each requested time, `1 − Ŝ(t)`, with its band `[1 − upper, 1 − lower]`.
        public var paidWithin: [PaidWithin]
        /// Times by which a quarter and three quarters have paid (survival levels 0.75, 0.25).
        public var quantiles: [Quantile]
        /// Restricted mean time to event up to τ, `∫₀^τ Ŝ`.
        public var rmst: Double
        /// Standard error of `rmst` (Klein & Moeschberger).
        public var rmstSE: Double
        /// Variance of `min(T, τ)` under Ŝ (lifelines' `return_variance=True` figure).
        public var restrictedTimeVariance: Double

        enum CodingKeys: String, CodingKey {
            case n, events, median, medianCI = "median_ci", survivalAt = "survival_at", survivalCI = "survival_ci"
            case cumulativeHazardAt = "cumulative_hazard_at", paidWithin = "paid_within", quantiles, rmst
            case rmstSE = "rmst_se", restrictedTimeVariance = "restricted_time_variance"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(n, forKey: .n)
            try c.encode(events, forKey: .events)
            try c.encode(median, forKey: .median)
            try c.encode(medianCI, forKey: .medianCI)
            try c.encode(survivalAt, forKey: .survivalAt)
            try c.encode(survivalCI, forKey: .survivalCI)
            try c.encode(cumulativeHazardAt, forKey: .cumulativeHazardAt)
            try c.encode(paidWithin, forKey: .paidWithin)
            try c.encode(quantiles, forKey: .quantiles)
            try c.encode(rmst, forKey: .rmst)
            try c.encode(rmstSE, forKey: .rmstSE)
            try c.encode(restrictedTimeVariance, forKey: .restrictedTimeVariance)
        }
    }

    /// `1 − Ŝ(t)` with its confidence interval.
    public struct PaidWithin: Codable, Sendable, Equatable {
        /// The time `t`.
        public var time: Double
        /// `1 − Ŝ(t)`.
        public var rate: Double
        /// `[1 − upper(t), 1 − lower(t)]` from the log(−log) band of Ŝ.
        public var ci: [Double]
    }

    /// The time by which a fraction has paid, `min{t : 1 − Ŝ(t) ≥ paidFraction}`, with its CI.
    public struct Quantile: Codable, Sendable, Equatable {
        /// The fraction paid, `p` (the survival level is `1 − p`).
        public var paidFraction: Double
        /// `min{t : Ŝ(t) ≤ 1 − p}`; nil if never reached.
        public var time: Double?
        /// Its confidence interval from the band's edges; nil where an edge never reaches `1 − p`.
        public var ci: [Double?]

        enum CodingKeys: String, CodingKey { case paidFraction = "paid_fraction", time, ci }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(paidFraction, forKey: .paidFraction)
            try c.encode(time, forKey: .time)
            try c.encode(ci, forKey: .ci)
        }
    }

    /// The log-rank test over all groups.
    public struct LogRank: Codable, Sendable, Equatable {
        /// The chi-square statistic.
        public var statistic: Double
        /// `P(χ²_df > statistic)`.
        public var pValue: Double
        /// Number of groups − 1.
        public var degreesOfFreedom: Int
        /// Observed events per group.
        public var observed: [String: Double]
        /// Expected events per group under equal hazards.
        public var expected: [String: Double]

        enum CodingKeys: String, CodingKey {
            case statistic, pValue = "p_value", degreesOfFreedom = "degrees_of_freedom", observed, expected
        }
    }

    /// Per-group summaries by group name.
    public var groups: [String: Group]
    /// Group names in order of first appearance in the data.
    public var groupOrder: [String]
    /// The log-rank test; nil with one group.
    public var logrank: LogRank?
    /// The requested times.
    public var times: [Double]
    /// The RMST horizon τ.
    public var tau: Double
    /// Confidence level of every interval.
    public var level: Double
    /// The statistical conventions, in words.
    public var conventions: String

    enum CodingKeys: String, CodingKey {
        case groups, groupOrder = "group_order", logrank, times, tau, level, conventions
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(groups, forKey: .groups)
        try c.encode(groupOrder, forKey: .groupOrder)
        try c.encode(logrank, forKey: .logrank)
        try c.encode(times, forKey: .times)
        try c.encode(tau, forKey: .tau)
        try c.encode(level, forKey: .level)
        try c.encode(conventions, forKey: .conventions)
    }

    static let conventionText = """
        Kaplan-Meier with Greenwood variance and log(-log) confidence bands; median and quantiles = first \
        time S(t) <= q, their intervals from the band's edges; Nelson-Aalen without tie smoothing (sum d/n); \
        RMST = integral of the Kaplan-Meier step function from 0 to tau, rmst_se by Klein & Moeschberger; \
        log-rank over all groups (lifelines 0.30.3 conventions)
        """

    /// Summarises an analysis.
    /// - Parameters:
    ///   - analysis: tables and log-rank test, groups indexed like `names`.
    ///   - names: group names, in order of first appearance.
    ///   - times: times at which to report `Ŝ`, `Ĥ` and paid-within rates.
    ///   - tau: RMST horizon; nil takes the smallest of the groups' largest durations, so every
    ///     group is observed up to τ.
    ///   - level: confidence level.
    public init(analysis: SurvivalAnalysis, names: [String], times: [Double], tau: Double?, level: Double) {
        precondition(names.count == analysis.tables.count, "SurvivalReport: \(names.count) names for \(analysis.tables.count) groups")
        let horizon = tau ?? analysis.tables.map { $0.rows.last!.time }.min()!
        let z = LifeTable.criticalValue(level: level)
        var groups = [String: Group]()
        for (name, table) in zip(names, analysis.tables) {
            let median = table.quantile(0.5, level: level)
            var survivalAt = [Double](), bands = [[Double]](), hazard = [Double](), paid = [PaidWithin]()
            for t in times {
                if let k = table.row(at: t) {
                    let s = table.survival(row: k)
                    let band = table.band(row: k, z: z)
                    survivalAt.append(s)
                    bands.append([band.lower, band.upper])
                    hazard.append(table.rows[k].cumulativeHazard)
                    paid.append(PaidWithin(time: t, rate: 1 - s, ci: [1 - band.upper, 1 - band.lower]))
                } else {
                    survivalAt.append(1)
                    bands.append([1, 1])
                    hazard.append(0)
                    paid.append(PaidWithin(time: t, rate: 0, ci: [0, 0]))
                }
            }
            let quantiles = [0.25, 0.75].map { fraction -> Quantile in
                let q = table.quantile(1 - fraction, level: level)
                return Quantile(paidFraction: fraction, time: q.time, ci: [q.lower, q.upper])
            }
            let rmst = table.restrictedMean(upTo: horizon)
            groups[name] = Group(
                n: table.count, events: table.eventCount, median: median.time, medianCI: [median.lower, median.upper],
                survivalAt: survivalAt, survivalCI: bands, cumulativeHazardAt: hazard, paidWithin: paid,
                quantiles: quantiles, rmst: rmst.value, rmstSE: rmst.standardError,
                restrictedTimeVariance: rmst.restrictedTimeVariance)
        }
        self.groups = groups
        groupOrder = names
        logrank = analysis.logRank.map { test in
            LogRank(statistic: test.statistic, pValue: test.pValue, degreesOfFreedom: test.degreesOfFreedom,
                    observed: Dictionary(uniqueKeysWithValues: zip(names, test.observed)),
                    expected: Dictionary(uniqueKeysWithValues: zip(names, test.expected)))
        }
        self.times = times
        self.tau = horizon
        self.level = level
        conventions = SurvivalReport.conventionText
    }
}
