import ArgumentParser
import Foundation
import Optimizer

/// `pom-train ope`: estimates a target policy's value on logged bandit feedback (SPEC §5).
///
/// ```
/// pom-train ope --log log.csv --target-probs target.csv --estimators ipw,snipw,dm,dr \
///     [--level 0.95] [--cross-fit K] [--seed S] [--l2 LAMBDA] [--bootstrap B] --out report.json
/// ```
/// Writes `{"ipw": {"estimate", "ci_low", "ci_high", "std_error", "n"}, "snipw": …, "dm": …, "dr": …,
/// "by_position": {label: {…}}, "n", "actions", "effective_sample_size", "max_weight", …}`.
public struct OffPolicyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Estimate a target policy's value on logged bandit feedback (IPW, SNIPW, DM, DR) with confidence intervals.",
        discussion: """
            The log has columns action, reward, propensity, optional position, and context columns (all other \
            columns). The target file has one row per logged row with columns p_<action> (the target policy's \
            probabilities) and an optional position matching the log's. DM and DR fit a penalised logistic reward \
            model on the context and action (ridge least squares when rewards are not in [0, 1]). \
            Instead of --target-probs, --policy model.json evaluates a pom model artifact: the log's actions are pom \
            delivery actions (email/friendly/tuesday/10-12), its columns include the artifact's features and \
            decision_weekday (1-7), and each row's target probabilities are the policy's over the logged actions.
            """)

    @Option(name: .long, help: "The log CSV (action, reward, propensity, [position], context columns).")
    var log: String

    @Option(name: .customLong("target-probs"), help: "The target policy's probabilities per logged row (p_<action> columns, [position]).")
    var targetProbs: String?

    @Option(name: .long, help: "The target policy as a pom model artifact (the log needs its features and decision_weekday).")
    var policy: String?

    @Option(name: .long, help: "Comma-separated estimators: ipw, snipw, dm, dr.")
    var estimators: String = "ipw,snipw,dm,dr"

    @Option(name: .long, help: "Confidence level of the intervals.")
    var level: Double = 0.95

    @Option(name: .customLong("cross-fit"), help: "Folds for cross-fitting the reward model (1: no cross-fitting).")
    var crossFit: Int = 1

    @Option(name: .long, help: "Seed for the cross-fitting folds and the bootstrap.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "L2 penalty of the reward model (intercept not penalised).")
    var l2: Double = 1

    @Option(name: .long, help: "Bootstrap resamples for percentile intervals (0: normal intervals).")
    var bootstrap: Int = 0

    @Option(name: .long, help: "Where to write the JSON report.")
    var out: String

    public init() {}

    var estimatorKinds: [OffPolicyEstimatorKind] {
        get throws {
            let names = estimators.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            var kinds = [OffPolicyEstimatorKind]()
            for name in names where !name.isEmpty {
                guard let kind = OffPolicyEstimatorKind(rawValue: name) else {
                    throw ValidationError("--estimators: unknown estimator '\(name)'; choose from ipw, snipw, dm, dr")
                }
                if !kinds.contains(kind) { kinds.append(kind) }
            }
            guard !kinds.isEmpty else { throw ValidationError("--estimators: name at least one of ipw, snipw, dm, dr") }
            return kinds
        }
    }

    public func validate() throws {
        _ = try estimatorKinds
        guard (targetProbs == nil) != (policy == nil) else {
            throw ValidationError("give the target policy as exactly one of --target-probs FILE.csv or --policy model.json")
        }
        guard level > 0 && level < 1 else { throw ValidationError("--level \(level): expected a number in (0, 1), e.g. 0.95") }
        guard crossFit >= 1 else { throw ValidationError("--cross-fit \(crossFit): expected at least 1 fold (1: no cross-fitting)") }
        guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 \(l2): expected a finite number ≥ 0") }
        guard bootstrap == 0 || bootstrap >= 2 else { throw ValidationError("--bootstrap \(bootstrap): expected 0 or at least 2 resamples") }
    }

    public func run() throws {
        let files = try policy.map { try OffPolicyFiles.load(logPath: log, policyPath: $0) }
            ?? OffPolicyFiles.load(logPath: log, targetPath: targetProbs!)
        let evaluation = OffPolicyEvaluation(estimators: try estimatorKinds, level: level,
                                             interval: bootstrap > 0 ? .bootstrap(resamples: bootstrap, seed: seed) : .normal,
                                             crossFitFolds: crossFit, seed: seed)
        if evaluation.needsRewardModel && crossFit > files.log.count {
            throw ValidationError("--cross-fit \(crossFit): more folds than the \(files.log.count) logged rows")
        }
        let report: OffPolicyReport
        do {
            report = try evaluation.run(files.log, target: files.target, rewardModel: PenalisedRewardModel(l2: l2))
        } catch let error as RewardModelError {
            throw ValidationError("reward model for \(log): \(error.message)")
        }
        let data = try OffPolicyCommand.json(report, files: files, evaluation: evaluation, l2: l2)
        try data.write(to: URL(fileURLWithPath: out), options: .atomic)
    }

    /// The report as the JSON of SPEC §5, with keys sorted.
    public static func json(_ report: OffPolicyReport, files: OffPolicyFiles, evaluation: OffPolicyEvaluation, l2: Double) throws -> Data {
        func number(_ x: Double) -> OffPolicyJSON { x.isFinite ? .number(x) : .null }
        func estimate(_ e: PolicyValueEstimate) -> OffPolicyJSON {
            .object(["estimate": number(e.estimate), "ci_low": number(e.lower), "ci_high": number(e.upper),
                     "std_error": number(e.standardError), "n": .number(Double(e.rounds))])
        }
        func group(_ g: OffPolicyGroupReport) -> [String: OffPolicyJSON] {
            var out = [String: OffPolicyJSON]()
            for (kind, e) in g.estimates { out[kind.rawValue] = estimate(e) }
            out["n"] = .number(Double(g.weights.rounds))
            out["effective_sample_size"] = number(g.weights.effectiveSampleSize)
            out["max_weight"] = number(g.weights.maximum)
            out["mean_weight"] = number(g.weights.mean)
            return out
        }
        var top = group(report.overall)
        top["actions"] = .number(Double(report.actionCount))
        top["action_labels"] = .array(files.actionLabels.map { .string($0) })
        top["context_columns"] = .array(files.contextColumns.map { .string($0) })
        top["level"] = .number(evaluation.level)
        switch evaluation.interval {
        case .normal:
            top["interval"] = .string("normal")
        case .bootstrap(let resamples, _):
            top["interval"] = .string("bootstrap")
            top["bootstrap_resamples"] = .number(Double(resamples))
        }
        var positions = [String: OffPolicyJSON]()
        for (p, g) in report.byPosition.enumerated() { positions[files.positionLabels[p]] = .object(group(g)) }
        top["by_position"] = .object(positions)
        if !report.rewardModelFits.isEmpty {
            let fits = report.rewardModelFits
            top["reward_model"] = .object([
                "kind": .string(fits[0].kind),
                "l2": .number(l2),
                "cross_fit_folds": .number(Double(report.crossFitFolds)),
                "converged": .bool(fits.allSatisfy(\.converged)),
                "iterations": .array(fits.map { .number(Double($0.iterations)) }),
            ])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(OffPolicyJSON.object(top))
    }
}

/// A JSON value of the `ope` report.
enum OffPolicyJSON: Encodable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([OffPolicyJSON])
    case object([String: OffPolicyJSON])
    case null

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let x):
            if x == x.rounded() && abs(x) < 1e15 { try c.encode(Int64(x)) } else { try c.encode(x) }
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .null: try c.encodeNil()
        }
    }
}
