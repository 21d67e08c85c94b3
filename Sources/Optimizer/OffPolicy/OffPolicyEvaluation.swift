import Foundation

/// Summary statistics of the importance weights `wᵢ = π(aᵢ|xᵢ) / π₀(aᵢ|xᵢ)`, which say how far the
/// target policy is from the logging policy and how much the log can tell about it.
public struct ImportanceWeightSummary: Sendable, Equatable {
    /// The number of rounds.
    public var rounds: Int
    /// `(1/n) Σ wᵢ` (1 in expectation when the propensities are right).
    public var mean: Double
    /// `max wᵢ`.
    public var maximum: Double
    /// Kish's effective sample size `(Σ wᵢ)² / Σ wᵢ²` (n when `π = π₀`).
    public var effectiveSampleSize: Double

    /// Summarises `weights` over `rows` (all when nil). O(n).
    public init(_ weights: [Double], rows: [Int]? = nil) {
        var s = 0.0, s2 = 0.0, m = 0.0
        let n = rows?.count ?? weights.count
        for k in 0..<n {
            let w = weights[rows?[k] ?? k]
            s += w
            s2 += w * w
            m = Swift.max(m, w)
        }
        rounds = n
        mean = n == 0 ? .nan : s / Double(n)
        maximum = m
        effectiveSampleSize = s2 == 0 ? 0 : s * s / s2
    }
}

/// The estimates of one group of rounds (all, or one position).
public struct OffPolicyGroupReport: Sendable {
    /// The estimates, in the order the estimators were asked for.
    public var estimates: [(kind: OffPolicyEstimatorKind, value: PolicyValueEstimate)]
    /// The importance weights of this group.
    public var weights: ImportanceWeightSummary

    /// The estimate of `kind`, if it was asked for.
    public subscript(kind: OffPolicyEstimatorKind) -> PolicyValueEstimate? {
        estimates.first { $0.kind == kind }?.value
    }
}

/// The result of an off-policy evaluation: estimates over all rounds and per position.
public struct OffPolicyReport: Sendable {
    /// Over all rounds.
    public var overall: OffPolicyGroupReport
    /// Per position `0..<positionCount`; empty when the log has no positions.
    public var byPosition: [OffPolicyGroupReport]
    /// The number of actions.
    public var actionCount: Int
    /// The reward model's fits (one per fold), when a model-based estimator was asked for.
    public var rewardModelFits: [RewardModelFitReport]
    /// The number of cross-fitting folds (1: none).
    public var crossFitFolds: Int
}

/// An off-policy evaluation: which estimators, which interval, and how the reward model's
/// predictions are made.
///
/// ```swift
/// let report = try OffPolicyEvaluation(estimators: [.ipw, .snipw, .dm, .dr], crossFitFolds: 5)
///     .run(log, target: target)
/// print(report.overall[.dr]!.lower, report.overall[.dr]!.upper)
/// ```
public struct OffPolicyEvaluation: Sendable {
    /// The estimators, in report order.
    public var estimators: [OffPolicyEstimatorKind]
    /// The confidence level of the intervals.
    public var level: Double
    /// Normal (delta-method) or bootstrap intervals.
    public var interval: IntervalMethod
    /// Cross-fitting folds for the reward model (1: fit and predict on all rounds).
    public var crossFitFolds: Int
    /// Seed of the fold assignment.
    public var seed: UInt64

    public init(estimators: [OffPolicyEstimatorKind] = OffPolicyEstimatorKind.allCases, level: Double = 0.95,
                interval: IntervalMethod = .normal, crossFitFolds: Int = 1, seed: UInt64 = 0) {
        precondition(!estimators.isEmpty, "OffPolicyEvaluation: no estimators")
        precondition(level > 0 && level < 1, "OffPolicyEvaluation: level \(level) outside (0, 1)")
        precondition(crossFitFolds >= 1, "OffPolicyEvaluation: crossFitFolds must be at least 1")
        self.estimators = estimators
        self.level = level
        self.interval = interval
        self.crossFitFolds = crossFitFolds
        self.seed = seed
    }

    /// Whether any chosen estimator needs a reward model.
    public var needsRewardModel: Bool { estimators.contains { $0.estimator.needsRewardModel } }

    /// Evaluates `target` on `log`, fitting `rewardModel` (cross-fitted when `crossFitFolds > 1`)
    /// if DM or DR is asked for.
    /// - Throws: what the reward model's fit throws.
    public func run<Model: RewardModel>(_ log: LoggedFeedback, target: ActionDistribution,
                                        rewardModel: Model) throws -> OffPolicyReport {
        guard needsRewardModel else { return run(log, target: target, predictedRewards: nil) }
        let predictions = try rewardModel.predictions(for: log, folds: crossFitFolds, seed: seed)
        var report = run(log, target: target, predictedRewards: predictions.predictions)
        report.rewardModelFits = predictions.fits.map(\.report)
        return report
    }

    /// Evaluates `target` on `log` with the default `PenalisedRewardModel(l2: 1)`.
    public func run(_ log: LoggedFeedback, target: ActionDistribution) throws -> OffPolicyReport {
        try run(log, target: target, rewardModel: PenalisedRewardModel())
    }

    /// Evaluates `target` on `log` with given reward predictions `q̂` (`count` x `actionCount`;
    /// required when DM or DR is asked for).
    public func run(_ log: LoggedFeedback, target: ActionDistribution, predictedRewards: Matrix?) -> OffPolicyReport {
        let weights = log.importanceWeights(target)
        let terms = estimators.map { kind in
            (kind, kind.estimator.roundTerms(log, target: target, predictedRewards: predictedRewards))
        }
        func group(_ rows: [Int]?) -> OffPolicyGroupReport {
            OffPolicyGroupReport(
                estimates: terms.map { kind, t in
                    (kind, PolicyValueEstimate.summarise(t, rows: rows, level: level, method: interval))
                },
                weights: ImportanceWeightSummary(weights, rows: rows))
        }
        let byPosition = log.positions == nil ? [] : (0..<log.positionCount).map { group(log.rows(atPosition: $0)) }
        return OffPolicyReport(overall: group(nil), byPosition: byPosition, actionCount: log.actionCount,
                               rewardModelFits: [], crossFitFolds: needsRewardModel ? crossFitFolds : 1)
    }
}
