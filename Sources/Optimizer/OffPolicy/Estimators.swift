import Dispatch
import Foundation

/// xoshiro256** (Blackman & Vigna 2018) seeded from four draws of a `Xoshiro256`, compiled into
/// the bootstrap's inner loop (a draw per resampled row).
private struct InlineXoshiro {
    var s0, s1, s2, s3: UInt64

    init(_ seeder: Xoshiro256) {
        var g = seeder
        s0 = g.next(); s1 = g.next(); s2 = g.next(); s3 = g.next()
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}

/// A buffer that concurrent workers write at disjoint indices.
private struct SendableSlots: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    init(_ buffer: UnsafeMutableBufferPointer<Double>) { self.buffer = buffer }
}

/// Per-round terms of an off-policy estimator written as a ratio of means:
/// `V̂ = Σᵢ cᵢ / Σᵢ dᵢ`, with `dᵢ = 1` for IPW, DM and DR (a plain mean) and `dᵢ = wᵢ` for SNIPW.
///
/// Every estimator's value, standard error and interval follow from these terms, over all rows
/// or any subset (a position).
public struct RoundTerms: Sendable {
    /// `cᵢ`: the per-round contributions (Open Bandit Pipeline's "round rewards" before normalising).
    public var numerators: [Double]
    /// `dᵢ`, or nil when every `dᵢ = 1`.
    public var denominators: [Double]?

    public init(numerators: [Double], denominators: [Double]? = nil) {
        precondition(denominators == nil || denominators!.count == numerators.count, "RoundTerms: length mismatch")
        self.numerators = numerators
        self.denominators = denominators
    }

    /// The number of rounds.
    public var count: Int { numerators.count }
}

/// How a confidence interval is formed.
public enum IntervalMethod: Sendable, Equatable {
    /// `V̂ ± z_{(1+level)/2} · SE`, with `SE` from the per-round terms (delta method).
    case normal
    /// The percentile interval of `resamples` bootstrap replicates of the rounds (replicate `b`
    /// drawn from a xoshiro256** stream seeded by `Xoshiro256(seed: seed, keys: b)`, so the result
    /// is the same on any number of threads); the standard error is the replicates' standard deviation.
    case bootstrap(resamples: Int, seed: UInt64)
}

/// A policy value estimate with its standard error and confidence interval.
public struct PolicyValueEstimate: Sendable, Equatable {
    /// `V̂`: the estimated expected reward per round under the target policy.
    public var estimate: Double
    /// The estimated standard error of `V̂` (NaN when it cannot be estimated, e.g. one round).
    public var standardError: Double
    /// The interval's lower bound.
    public var lower: Double
    /// The interval's upper bound.
    public var upper: Double
    /// The confidence level of the interval, e.g. 0.95.
    public var level: Double
    /// The number of rounds the estimate is based on.
    public var rounds: Int
    /// How the interval was formed.
    public var method: IntervalMethod

    /// Summarises per-round terms `V̂ = Σ cᵢ / Σ dᵢ` over `rows` (all rounds when nil).
    ///
    /// Normal interval: the delta-method (sandwich) variance of a ratio of means,
    /// `SE² = Σᵢ (cᵢ − V̂·dᵢ)² / (n (n−1) d̄²)`, which for `dᵢ = 1` is the sample variance of `cᵢ`
    /// over `n` (`s²/n`), and for SNIPW is `n/(n−1) · Σ wᵢ²(rᵢ − V̂)² / (Σ wᵢ)²`.
    /// Interval `V̂ ± z·SE` with `z = Φ⁻¹((1 + level)/2)`.
    /// Bootstrap: `B` resamples of the rows with replacement; percentile bounds at `(1 ∓ level)/2`
    /// (type-7 quantiles, as numpy's default) and `SE` the replicates' standard deviation.
    /// Complexity: O(n) for the normal interval, O(B·n) for the bootstrap.
    public static func summarise(_ terms: RoundTerms, rows: [Int]? = nil, level: Double = 0.95,
                                 method: IntervalMethod = .normal) -> PolicyValueEstimate {
        precondition(level > 0 && level < 1, "PolicyValueEstimate: level \(level) outside (0, 1)")
        // The terms of the chosen rows, contiguous.
        var c = terms.numerators, d = terms.denominators
        if let rows {
            c = rows.map { terms.numerators[$0] }
            d = terms.denominators.map { all in rows.map { all[$0] } }
        }
        let n = c.count
        let (sumC, sumD) = c.withUnsafeBufferPointer { cp in
            var sc = 0.0
            for i in 0..<n { sc += cp[i] }
            guard let d else { return (sc, Double(n)) }
            return d.withUnsafeBufferPointer { dp in
                var sd = 0.0
                for i in 0..<n { sd += dp[i] }
                return (sc, sd)
            }
        }
        let value = n == 0 || sumD == 0 ? Double.nan : sumC / sumD
        switch method {
        case .normal:
            var se = Double.nan
            if n > 1 && value.isFinite {
                let ss = c.withUnsafeBufferPointer { cp in
                    var ss = 0.0
                    if let d {
                        d.withUnsafeBufferPointer { dp in
                            for i in 0..<n { let r = cp[i] - value * dp[i]; ss += r * r }
                        }
                    } else {
                        for i in 0..<n { let r = cp[i] - value; ss += r * r }
                    }
                    return ss
                }
                let meanD = sumD / Double(n)
                se = (ss / (Double(n) * Double(n - 1))).squareRoot() / meanD
            }
            let z = SpecialFunctions.normalQuantile(0.5 + level / 2)
            return PolicyValueEstimate(estimate: value, standardError: se, lower: value - z * se, upper: value + z * se,
                                       level: level, rounds: n, method: method)
        case .bootstrap(let resamples, let seed):
            precondition(resamples >= 2, "PolicyValueEstimate: at least 2 bootstrap resamples")
            guard n > 0 else {
                return PolicyValueEstimate(estimate: value, standardError: .nan, lower: .nan, upper: .nan,
                                           level: level, rounds: 0, method: method)
            }
            let replicates = bootstrapReplicates(c, d, resamples: resamples, seed: seed)
            let finite = replicates.filter(\.isFinite).sorted()
            let mean = finite.reduce(0, +) / Double(finite.count)
            let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count - 1)
            return PolicyValueEstimate(estimate: value, standardError: variance.squareRoot(),
                                       lower: quantile(finite, (1 - level) / 2), upper: quantile(finite, (1 + level) / 2),
                                       level: level, rounds: n, method: method)
        }
    }

    /// `Σ c / Σ d` over `resamples` resamples of the rows with replacement. Replicate `b` draws its
    /// rows from `Xoshiro256(seed: seed, keys: b)`, so the result does not depend on how the
    /// replicates are spread over threads.
    static func bootstrapReplicates(_ c: [Double], _ d: [Double]?, resamples: Int, seed: UInt64) -> [Double] {
        let n = c.count
        let slots = UnsafeMutableBufferPointer<Double>.allocate(capacity: resamples)
        slots.initialize(repeating: .nan)
        defer { slots.deallocate() }
        let out = SendableSlots(slots)
        let workers = Swift.min(resamples, ProcessInfo.processInfo.activeProcessorCount)
        let weighted = d != nil
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            c.withUnsafeBufferPointer { cp in
                (d ?? []).withUnsafeBufferPointer { dp in
                    // Indices are drawn a block at a time and then gathered, so many independent
                    // loads are in flight at once (the gathers are what costs).
                    let block = 8192
                    var indices = [Int](repeating: 0, count: block)
                    for b in stride(from: worker, to: resamples, by: workers) {
                        var rng = InlineXoshiro(Xoshiro256(seed: seed, keys: UInt64(b)))
                        var sc = 0.0, sd = 0.0
                        var start = 0
                        while start < n {
                            let m = Swift.min(block, n - start)
                            indices.withUnsafeMutableBufferPointer { ip in
                                for j in 0..<m {
                                    // Lemire's multiply-shift: a uniform index without a division.
                                    ip[j] = Int(rng.next().multipliedFullWidth(by: UInt64(n)).high)
                                }
                                for j in 0..<m { sc += cp[ip[j]] }
                                if weighted {
                                    for j in 0..<m { sd += dp[ip[j]] }
                                } else {
                                    sd += Double(m)
                                }
                            }
                            start += m
                        }
                        out.buffer[b] = sd == 0 ? .nan : sc / sd
                    }
                }
            }
        }
        return Array(slots)
    }


    /// Type-7 (linear interpolation) quantile of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}


/// An off-policy estimator of a target policy's value from logged bandit feedback.
///
/// Every estimator has one call shape, as in Open Bandit Pipeline's `BaseOffPolicyEstimator`
/// (`reward, action, action_dist, pscore[, estimated_rewards_by_reg_model] → value`): the logged
/// feedback (rewards, actions, propensities), the target's action distribution and, for
/// model-based estimators, the reward model's predictions `q̂(xᵢ, a)`.
public protocol OffPolicyEstimator: Sendable {
    /// The estimator's short name (`ipw`, `snipw`, `dm`, `dr`).
    var name: String { get }
    /// Whether the estimator needs reward predictions `q̂`.
    var needsRewardModel: Bool { get }
    /// The per-round terms `cᵢ, dᵢ` with `V̂ = Σ cᵢ / Σ dᵢ`.
    /// - Parameters:
    ///   - log: the logged feedback.
    ///   - target: `π(a|xᵢ)` for every logged round and action.
    ///   - predictedRewards: `q̂(xᵢ, a)`, `count` x `actionCount` (required when `needsRewardModel`).
    func roundTerms(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> RoundTerms
}

extension OffPolicyEstimator {
    /// The estimate with its standard error and interval, over `rows` (all rounds when nil).
    /// See `PolicyValueEstimate.summarise` for the variance and interval formulas.
    public func estimate(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix? = nil,
                         rows: [Int]? = nil, level: Double = 0.95, method: IntervalMethod = .normal) -> PolicyValueEstimate {
        PolicyValueEstimate.summarise(roundTerms(log, target: target, predictedRewards: predictedRewards),
                                      rows: rows, level: level, method: method)
    }

    /// The point estimate `V̂` alone.
    public func policyValue(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix? = nil) -> Double {
        let t = roundTerms(log, target: target, predictedRewards: predictedRewards)
        let num = t.numerators.reduce(0, +)
        let den = t.denominators?.reduce(0, +) ?? Double(t.count)
        return num / den
    }
}

fileprivate func checkShapes(_ log: LoggedFeedback, _ target: ActionDistribution, _ q: Matrix?, needsModel: Bool, _ name: String) {
    precondition(target.rows == log.count, "\(name): \(target.rows) target rows for \(log.count) logged rounds")
    precondition(target.actions == log.actionCount, "\(name): target has \(target.actions) actions, the log \(log.actionCount)")
    if needsModel {
        guard let q else { preconditionFailure("\(name): reward predictions are required") }
        precondition(q.rows == log.count && q.columns == log.actionCount,
                     "\(name): predictions are \(q.rows) x \(q.columns), expected \(log.count) x \(log.actionCount)")
    }
}

/// Inverse probability weighting (Horvitz & Thompson 1952; Precup et al. 2000):
/// `V̂_IPW = (1/n) Σᵢ wᵢ rᵢ` with `wᵢ = π(aᵢ|xᵢ) / π₀(aᵢ|xᵢ)`.
///
/// Unbiased when the propensities are exact and `π₀` covers `π`; its variance grows with the
/// weights. Open Bandit Pipeline's `InverseProbabilityWeighting` without clipping. O(n).
public struct InverseProbabilityWeighting: OffPolicyEstimator {
    public init() {}
    public var name: String { "ipw" }
    public var needsRewardModel: Bool { false }

    public func roundTerms(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> RoundTerms {
        checkShapes(log, target, predictedRewards, needsModel: false, name)
        return RoundTerms(numerators: weightedRewards(log.importanceWeights(target), log.rewards))
    }
}

/// Self-normalised inverse probability weighting (Swaminathan & Joachims 2015):
/// `V̂_SNIPW = Σᵢ wᵢ rᵢ / Σᵢ wᵢ`.
///
/// Consistent, slightly biased, and invariant to a constant shift of the rewards; its variance
/// is the delta-method variance of the ratio, `Σ wᵢ²(rᵢ − V̂)² / (Σ wᵢ)²` (times `n/(n−1)`).
/// Open Bandit Pipeline's `SelfNormalizedInverseProbabilityWeighting`. O(n).
public struct SelfNormalizedInverseProbabilityWeighting: OffPolicyEstimator {
    public init() {}
    public var name: String { "snipw" }
    public var needsRewardModel: Bool { false }

    public func roundTerms(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> RoundTerms {
        checkShapes(log, target, predictedRewards, needsModel: false, name)
        let w = log.importanceWeights(target)
        return RoundTerms(numerators: weightedRewards(w, log.rewards), denominators: w)
    }
}

/// The direct method (Beygelzimer & Langford 2009):
/// `V̂_DM = (1/n) Σᵢ Σ_a π(a|xᵢ) q̂(xᵢ, a)`.
///
/// Low variance, biased by the reward model's error; the interval reflects the spread of
/// `Σ_a π q̂` over contexts only, not the reward model's own uncertainty.
/// Open Bandit Pipeline's `DirectMethod`. O(n·K).
public struct DirectMethod: OffPolicyEstimator {
    public init() {}
    public var name: String { "dm" }
    public var needsRewardModel: Bool { true }

    public func roundTerms(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> RoundTerms {
        checkShapes(log, target, predictedRewards, needsModel: true, name)
        return RoundTerms(numerators: modelValues(target, predictedRewards!))
    }
}

/// `wᵢ·rᵢ` for every round.
fileprivate func weightedRewards(_ w: [Double], _ r: [Double]) -> [Double] {
    var out = w
    out.withUnsafeMutableBufferPointer { o in
        r.withUnsafeBufferPointer { rp in
            for i in 0..<o.count { o[i] *= rp[i] }
        }
    }
    return out
}

/// `Σ_a π(a|xᵢ) q̂(xᵢ, a)` for every round, accumulated column by column (contiguous in memory).
fileprivate func modelValues(_ target: ActionDistribution, _ q: Matrix) -> [Double] {
    let n = target.rows, k = target.actions
    var out = [Double](repeating: 0, count: n)
    target.probabilities.elements.withUnsafeBufferPointer { p in
        q.elements.withUnsafeBufferPointer { qp in
            out.withUnsafeMutableBufferPointer { o in
                for a in 0..<k {
                    let base = a * n
                    for i in 0..<n { o[i] += p[base + i] * qp[base + i] }
                }
            }
        }
    }
    return out
}

/// The doubly robust estimator (Dudík, Langford & Li 2011):
/// `V̂_DR = (1/n) Σᵢ [ Σ_a π(a|xᵢ) q̂(xᵢ, a) + wᵢ (rᵢ − q̂(xᵢ, aᵢ)) ]`.
///
/// Unbiased when either the propensities or the reward model are right, with lower variance
/// than IPW when `q̂` is good. Use cross-fitted `q̂` (see `RewardModel`) so the model is not
/// evaluated on its own training rows. Open Bandit Pipeline's `DoublyRobust` without clipping. O(n·K).
public struct DoublyRobust: OffPolicyEstimator {
    public init() {}
    public var name: String { "dr" }
    public var needsRewardModel: Bool { true }

    public func roundTerms(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> RoundTerms {
        checkShapes(log, target, predictedRewards, needsModel: true, name)
        let q = predictedRewards!
        var c = modelValues(target, q)
        let w = log.importanceWeights(target)
        let n = log.count
        c.withUnsafeMutableBufferPointer { cp in
            q.elements.withUnsafeBufferPointer { qp in
                w.withUnsafeBufferPointer { wp in
                    log.rewards.withUnsafeBufferPointer { rp in
                        log.actions.withUnsafeBufferPointer { ap in
                            for i in 0..<n { cp[i] += wp[i] * (rp[i] - qp[i + ap[i] * n]) }
                        }
                    }
                }
            }
        }
        return RoundTerms(numerators: c)
    }
}

/// The estimators `pom-train ope` knows, by their command-line names.
public enum OffPolicyEstimatorKind: String, CaseIterable, Sendable, Codable {
    case ipw, snipw, dm, dr

    /// The estimator itself.
    public var estimator: any OffPolicyEstimator {
        switch self {
        case .ipw: InverseProbabilityWeighting()
        case .snipw: SelfNormalizedInverseProbabilityWeighting()
        case .dm: DirectMethod()
        case .dr: DoublyRobust()
        }
    }
}
