import Foundation

/// Kaplan–Meier and Nelson–Aalen estimates of one right-censored sample, kept as a life table
/// over lifelines' timeline: time 0, then every distinct duration (event or censoring) in
/// ascending order.
///
/// At row `k` with `n_k` at risk just before `t_k`, `d_k` events and `c_k` censorings at `t_k`:
/// - Kaplan–Meier: `log Ŝ(t_k) = Σ_{j≤k} [log(n_j − d_j) − log n_j]` and `Ŝ = exp(log Ŝ)`,
///   summed in this order exactly as lifelines 0.30.3 (`KaplanMeierFitter`) does, so medians and
///   quantiles take the same side of a threshold as lifelines does.
/// - Greenwood: `V_k = Σ_{j≤k} d_j / (n_j (n_j − d_j))` (a term with `n_j = d_j` counts 0, as
///   in lifelines), `Var Ŝ ≈ Ŝ² V`.
/// - Nelson–Aalen without tie smoothing: `Ĥ(t_k) = Σ_{j≤k} d_j / n_j`
///   (lifelines `NelsonAalenFitter(nelson_aalen_smoothing=False)`).
///
/// Every query is a right-continuous step function (`pandas.Series.asof`): the value at `t` is
/// the row with the largest `t_k ≤ t`.
///
/// ```swift
/// let table = LifeTable(durations: [5, 8, 8, 12, 20], events: [true, true, false, true, false])
/// table.survival(at: 10)               // 0.8 · (1 − 1/4) = 0.6
/// table.median().time                  // 12: the first time Ŝ ≤ 0.5
/// table.restrictedMean(upTo: 15).value // ∫₀¹⁵ Ŝ(t) dt
/// ```
public struct LifeTable: Sendable {
    /// One time point of the table.
    public struct Row: Sendable, Equatable {
        /// The time `t_k`.
        public var time: Double
        /// Number at risk just before `t_k`, `n_k`.
        public var atRisk: Int
        /// Events (payments) at `t_k`, `d_k`.
        public var events: Int
        /// Censorings at `t_k`, `c_k`.
        public var censored: Int
        /// `log Ŝ(t_k)`, the running sum of `log(n − d) − log n`.
        public var logSurvival: Double
        /// Greenwood's running sum `Σ d / (n (n − d))`.
        public var greenwood: Double
        /// Nelson–Aalen cumulative hazard `Ĥ(t_k) = Σ d / n`.
        public var cumulativeHazard: Double
    }

    /// The table, one row per timeline point: time 0, then the distinct durations ascending.
    public private(set) var rows: [Row] = []
    /// Number of subjects.
    public let count: Int
    /// Number of observed events.
    public private(set) var eventCount = 0

    // Running state while the table is built.
    private var lastLogArgument = -1
    private var lastLog = 0.0

    /// Builds the table from raw durations and event flags.
    ///
    /// One radix sort of the durations, then one linear pass. O(n) time and memory.
    /// - Parameters:
    ///   - durations: non-negative, finite times (e.g. hours from reminder to payment or to the
    ///     end of observation).
    ///   - events: `true` where the event (payment) was observed, `false` where censored.
    public init(durations: [Double], events: [Bool]) {
        let groups = [Int](repeating: 0, count: durations.count)
        self = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: 1).tables[0]
    }

    /// An empty table for `count` subjects, ready for `append`.
    init(count: Int) {
        precondition(count > 0, "LifeTable: a sample needs at least one subject")
        self.count = count
        rows.reserveCapacity(count + 1)
    }

    /// The table of one sample from its sorted keys (`duration.bitPattern << 1 | event`, as
    /// `SurvivalAnalysis` builds them): one pass, rows written straight into the table's storage,
    /// with exactly the arithmetic of `append` in the same order.
    init(sortedKeys keys: UnsafeBufferPointer<UInt64>) {
        let n = keys.count
        precondition(n > 0, "LifeTable: a sample needs at least one subject")
        count = n
        var events = 0
        rows = [Row](unsafeUninitializedCapacity: n + 1) { rows, initialized in
            var r = 0
            var atRisk = n
            var logSurvival = 0.0, greenwood = 0.0, hazard = 0.0
            var lastLogArgument = -1, lastLog = 0.0
            if keys[0] >> 1 != 0 {
                rows[0] = Row(time: 0, atRisk: n, events: 0, censored: 0, logSurvival: 0, greenwood: 0, cumulativeHazard: 0)
                r = 1
            }
            var i = 0
            while i < n {
                let bits = keys[i] >> 1
                var j = i + 1
                var d = Int(keys[i] & 1)
                while j < n && keys[j] >> 1 == bits {
                    d += Int(keys[j] & 1)
                    j += 1
                }
                let removed = j - i
                if d > 0 {
                    let logN = atRisk == lastLogArgument ? lastLog : Foundation.log(Double(atRisk))
                    let logRemaining = Foundation.log(Double(atRisk - d))
                    lastLogArgument = atRisk - d
                    lastLog = logRemaining
                    logSurvival += logRemaining - logN
                    if atRisk != d { greenwood += Double(d) / (Double(atRisk) * Double(atRisk - d)) }
                    hazard += Double(d) / Double(atRisk)
                    events += d
                }
                (rows.baseAddress! + r).initialize(to: Row(time: Double(bitPattern: bits), atRisk: atRisk, events: d, censored: removed - d,
                                                           logSurvival: logSurvival, greenwood: greenwood, cumulativeHazard: hazard))
                r += 1
                atRisk -= removed
                i = j
            }
            initialized = r
        }
        eventCount = events
    }

    /// The timeline (a copy of the rows' times, O(rows)).
    public var times: [Double] { rows.map(\.time) }
    /// `log Ŝ` at every row (a copy, O(rows)).
    public var logSurvival: [Double] { rows.map(\.logSurvival) }

    /// Appends the row for `time` (times must come in ascending order); the first call adds the
    /// row for time 0 when `time > 0`.
    @inline(__always)
    mutating func append(time: Double, atRisk n: Int, events d: Int, censored c: Int) {
        if rows.isEmpty && time > 0 {
            rows.append(Row(time: 0, atRisk: count, events: 0, censored: 0, logSurvival: 0, greenwood: 0, cumulativeHazard: 0))
        }
        var row = rows.last ?? Row(time: 0, atRisk: 0, events: 0, censored: 0, logSurvival: 0, greenwood: 0, cumulativeHazard: 0)
        row.time = time
        row.atRisk = n
        row.events = d
        row.censored = c
        if d > 0 {
            // log(n − d) − log(n); log(n − d) is usually the next row's log(n), so keep it.
            let logN = n == lastLogArgument ? lastLog : Foundation.log(Double(n))
            let logRemaining = Foundation.log(Double(n - d))
            lastLogArgument = n - d
            lastLog = logRemaining
            row.logSurvival += logRemaining - logN
            if n != d { row.greenwood += Double(d) / (Double(n) * Double(n - d)) }
            row.cumulativeHazard += Double(d) / Double(n)
            eventCount += d
        }
        rows.append(row)
    }

    // MARK: - Queries

    /// The row in force at `t`: the largest `k` with `t_k ≤ t`, or nil before time 0.
    /// O(log rows).
    public func row(at t: Double) -> Int? {
        var lo = 0, hi = rows.count
        while lo < hi {
            let mid = lo + (hi - lo) >> 1
            if rows[mid].time <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }

    /// `Ŝ(t_k) = exp(log Ŝ(t_k))` at row `k`.
    public func survival(row k: Int) -> Double { exp(rows[k].logSurvival) }

    /// The Kaplan–Meier survival `Ŝ(t)` (1 before time 0). O(log rows).
    public func survival(at t: Double) -> Double {
        guard let k = row(at: t) else { return 1 }
        return survival(row: k)
    }

    /// The Nelson–Aalen cumulative hazard `Ĥ(t)` (0 before time 0). O(log rows).
    public func cumulativeHazard(at t: Double) -> Double {
        guard let k = row(at: t) else { return 0 }
        return rows[k].cumulativeHazard
    }

    /// The two-sided normal critical value for a confidence level, computed as lifelines does:
    /// `α = 1 − level`, `z = Φ⁻¹(1 − α/2)` (1.959963984540054 at 0.95).
    public static func criticalValue(level: Double) -> Double {
        precondition(level > 0 && level < 1, "LifeTable: confidence level \(level) is not in (0, 1)")
        let alpha = 1 - level
        return SpecialFunctions.normalQuantile(1 - alpha / 2)
    }

    /// The pointwise confidence band of `Ŝ` at row `k` on the log(−log) scale
    /// (Kalbfleisch–Prentice "exponential Greenwood", R's `conf.type = "log-log"`, lifelines'
    /// `KaplanMeierFitter._bounds`): with `v = log Ŝ`,
    /// `lower = exp(−exp(log(−v) − z √V / v))`, `upper = exp(−exp(log(−v) + z √V / v))`.
    /// Where Ŝ = 1 the band is [1, 1]; where Ŝ = 0 it is [0, 0].
    /// - Parameters:
    ///   - k: a row.
    ///   - z: the critical value (`criticalValue(level:)`).
    public func band(row k: Int, z: Double) -> (lower: Double, upper: Double) {
        let v = Foundation.log(survival(row: k))
        let spread = z * rows[k].greenwood.squareRoot() / v
        let centre = Foundation.log(-v)
        var lower = exp(-exp(centre - spread))
        var upper = exp(-exp(centre + spread))
        if lower.isNaN { lower = 1 }
        if upper.isNaN { upper = 1 }
        return (lower, upper)
    }

    /// The confidence band of `Ŝ(t)` at `level` (see `band(row:z:)`); [1, 1] before time 0.
    public func survivalBand(at t: Double, level: Double = 0.95) -> (lower: Double, upper: Double) {
        guard let k = row(at: t) else { return (1, 1) }
        return band(row: k, z: LifeTable.criticalValue(level: level))
    }

    /// The first time a step function over the timeline is ≤ `q`, located exactly as lifelines'
    /// `qth_survival_time` does: nil when its last value is > q, else numpy's left
    /// `searchsorted` of `−q` in the negated values (a binary search, so a band that is not
    /// monotone is treated as lifelines treats it). O(log rows) evaluations of `value`.
    func firstTime(atOrBelow q: Double, _ value: (Int) -> Double) -> Double? {
        if value(rows.count - 1) > q { return nil }
        var lo = 0, hi = rows.count
        while lo < hi {
            let mid = lo + (hi - lo) >> 1
            if -value(mid) < -q { lo = mid + 1 } else { hi = mid }
        }
        return rows[lo].time
    }

    /// The time at which survival first falls to `q` or below, with its confidence interval.
    ///
    /// `t_q = min{t : Ŝ(t) ≤ q}`; the interval takes the same crossing of the band's edges,
    /// `[min{t : lower(t) ≤ q}, min{t : upper(t) ≤ q}]` (Brookmeyer–Crowley by inversion of the
    /// log(−log) band, lifelines `qth_survival_times(q, kmf.confidence_interval_)`). Any of the
    /// three is nil when never reached. `q = 0.5` is the median; "time by which a fraction `p`
    /// has paid" is `q = 1 − p`.
    /// - Parameters:
    ///   - q: survival level in [0, 1].
    ///   - level: confidence level of the interval.
    /// - Complexity: O(log rows).
    public func quantile(_ q: Double, level: Double = 0.95) -> SurvivalQuantile {
        precondition(q >= 0 && q <= 1, "LifeTable.quantile: q = \(q) is not in [0, 1]")
        let z = LifeTable.criticalValue(level: level)
        return SurvivalQuantile(
            q: q,
            time: firstTime(atOrBelow: q) { survival(row: $0) },
            lower: firstTime(atOrBelow: q) { band(row: $0, z: z).lower },
            upper: firstTime(atOrBelow: q) { band(row: $0, z: z).upper })
    }

    /// The median time to event, `min{t : Ŝ(t) ≤ 0.5}`, with its confidence interval.
    public func median(level: Double = 0.95) -> SurvivalQuantile { quantile(0.5, level: level) }

    /// The restricted mean survival time `μ(τ) = ∫₀^τ Ŝ(t) dt` and its variances.
    ///
    /// - `value`: the exact integral of the step function, `Σ_k (t_{k+1} ∧ τ − t_k) Ŝ(t_k)` over
    ///   rows with `t_k ≤ τ` (lifelines `restricted_mean_survival_time(kmf, τ)`).
    /// - `variance`: the variance of the estimator, `Σ_{t_k ≤ τ} A_k² d_k / (n_k (n_k − d_k))`
    ///   with `A_k = ∫_{t_k}^τ Ŝ(t) dt` (Klein & Moeschberger 2003, §4.5; R `survival`'s
    ///   `print(fit, rmean = τ)`); `standardError = √variance`. Use these for intervals.
    /// - `restrictedTimeVariance`: the variance of the restricted time `min(T, τ)` under Ŝ,
    ///   `2 ∫₀^τ t Ŝ(t) dt − μ²`, which is what lifelines returns with `return_variance=True`
    ///   (lifelines integrates it numerically with `quad`; this is the exact integral).
    /// - Parameter tau: the horizon τ ≥ 0.
    /// - Complexity: O(rows up to τ), one `exp` per row.
    public func restrictedMean(upTo tau: Double) -> RestrictedMean {
        precondition(tau >= 0, "LifeTable.restrictedMean: tau = \(tau) must be >= 0")
        let last = row(at: tau)!
        var mean = 0.0, secondMoment = 0.0, variance = 0.0
        // Ŝ per row up to τ, kept for the backward pass (one buffer, one exp per row).
        withUnsafeTemporaryAllocation(of: Double.self, capacity: last + 1) { survival in
            rows.withUnsafeBufferPointer { rows in
                var previousLog = 0.0, previous = 1.0
                for k in 0...last {
                    let start = rows[k].time
                    let end = k < last ? rows[k + 1].time : tau
                    // exp only where log Ŝ changed (rows with censorings alone keep it): same bits.
                    let v = rows[k].logSurvival
                    let s = v == previousLog ? previous : exp(v)
                    previousLog = v
                    previous = s
                    survival[k] = s
                    mean += (end - start) * s
                    secondMoment += (end * end - start * start) * s
                }
                // Backward: A_k = ∫_{t_k}^τ Ŝ accumulated from τ down.
                var tail = 0.0
                var k = last
                while k >= 0 {
                    let end = k < last ? rows[k + 1].time : tau
                    tail += (end - rows[k].time) * survival[k]
                    let d = rows[k].events, n = rows[k].atRisk
                    if d > 0 && n > d {
                        variance += tail * tail * Double(d) / (Double(n) * Double(n - d))
                    }
                    k -= 1
                }
            }
        }
        return RestrictedMean(tau: tau, value: mean, variance: variance,
                              restrictedTimeVariance: secondMoment - mean * mean)
    }
}

/// A time at which a survival curve first reaches a level, with its confidence interval; nil
/// where the curve (or that edge of the band) never gets down to the level.
public struct SurvivalQuantile: Sendable, Equatable {
    /// The survival level (0.5 for the median).
    public var q: Double
    /// `min{t : Ŝ(t) ≤ q}`.
    public var time: Double?
    /// Lower confidence limit (where the band's lower edge reaches q).
    public var lower: Double?
    /// Upper confidence limit (where the band's upper edge reaches q).
    public var upper: Double?
}

/// The restricted mean survival time up to τ and its variances (see `LifeTable.restrictedMean`).
public struct RestrictedMean: Sendable, Equatable {
    /// The horizon τ.
    public var tau: Double
    /// `∫₀^τ Ŝ(t) dt`.
    public var value: Double
    /// Variance of the estimator (Klein & Moeschberger).
    public var variance: Double
    /// Variance of `min(T, τ)` under Ŝ (lifelines' `return_variance=True`).
    public var restrictedTimeVariance: Double
    /// `√variance`.
    public var standardError: Double { variance.squareRoot() }
}
