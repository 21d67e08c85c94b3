import FeatureStore
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// Holdout metrics of a stored model and off-policy estimates of its policy's value on the
/// logged decisions.
public struct EvaluationReport: Sendable {
    public var model: String
    public var version: String
    public var kind: String
    public var metrics: PredictionMetrics
    /// IPW, SNIPW, DM and DR estimates (with intervals) of "paid within H days" under the model's policy.
    public var offPolicy: [(kind: OffPolicyEstimatorKind, value: PolicyValueEstimate)]
    /// The logging policy's value: the mean label.
    public var loggedValue: Double
    public var effectiveSampleSize: Double
    public var maxWeight: Double
}

/// Evaluates artifacts on logged decisions.
public enum ModelEvaluation {
    /// Metrics and off-policy estimates of `artifact` on `data`.
    ///
    /// The target distribution is the runtime's exact (or Monte-Carlo) distribution over each
    /// decision's allowed actions; DM and DR use the model's own reward predictions `q̂(x, a)` for
    /// every action (so DR is "model-based + IPW correction", Dudík et al. 2011). Rows are logged
    /// decisions: IPW is unbiased when the logged propensities are exact.
    /// - Throws: artifact errors (`DecisioningError.schemaMismatch` ...).
    public static func evaluate(artifact: ModelArtifact, model: String, data: PolicyData, level: Double = 0.95) throws -> EvaluationReport {
        let runtime = try PolicyRuntime(artifact: artifact, model: model)
        let n = data.count
        let actionCount = DeliveryAction.count
        var target = [Double](repeating: 0, count: n * actionCount)
        var q = [Double](repeating: 0, count: n * actionCount)
        var logged = [Double](repeating: 0, count: n)
        let all = CandidateSet.all()
        let bandit: BanditArtifactState? = artifact.kind == "logistic" ? nil : try artifact.state(as: BanditArtifactState.self)
        for i in 0..<n {
            let x = (0..<data.contexts.columns).map { data.contexts[i, $0] }
            var allowed = CandidateSet()
            for a in data.candidates[i] { allowed.insert(a.index) }
            allowed.insert(data.actions[i].index)
            let dist = runtime.distribution(features: x, clock: data.clocks[i], candidates: allowed, runID: 0,
                                            customerKey: PolicyRuntime.key(data.customerIDs[i]))
            for a in 0..<actionCount { target[i + a * n] = dist.probabilities[a] }
            let predicted = rewardPredictions(runtime: runtime, bandit: bandit, features: x, clock: data.clocks[i], all: all)
            for a in 0..<actionCount { q[i + a * n] = predicted[a] }
            logged[i] = predicted[data.actions[i].index]
        }
        let log = try LoggedFeedback(actions: data.actions.map(\.index), rewards: data.labels, propensities: data.propensities,
                                     contexts: Matrix(rows: n, columns: 0), actionCount: actionCount)
        let distribution = try ActionDistribution(probabilities: Matrix(rows: n, columns: actionCount, columnMajor: target), tolerance: 1e-6)
        let report = OffPolicyEvaluation(estimators: OffPolicyEstimatorKind.allCases, level: level)
            .run(log, target: distribution, predictedRewards: Matrix(rows: n, columns: actionCount, columnMajor: q))
        return EvaluationReport(model: model, version: artifact.version, kind: artifact.kind,
                                metrics: PredictionMetrics(predictions: logged, labels: data.labels),
                                offPolicy: report.overall.estimates, loggedValue: data.labels.reduce(0, +) / Double(max(n, 1)),
                                effectiveSampleSize: report.overall.weights.effectiveSampleSize, maxWeight: report.overall.weights.maximum)
    }

    /// `q̂(x, a)` for every delivery action: the reward model's probability, or a bandit's posterior mean.
    static func rewardPredictions(runtime: PolicyRuntime, bandit: BanditArtifactState?, features x: [Double], clock: DecisionClock,
                                  all: CandidateSet) -> [Double] {
        switch runtime.engine {
        case .reward(let scorer, _):
            var eta = [Double](repeating: 0, count: Candidate.count)
            scorer.linearPredictors(context: x, clock: clock, candidates: all, into: &eta)
            return (0..<DeliveryAction.count).map { sigmoid(eta[$0]) }
        case .bandit:
            let state = bandit!
            let map = state.posterior.featureMap
            let z = BanditContext.vector(x, clock: clock, design: state.design)
            return (0..<DeliveryAction.count).map { c in
                let psi = map.features(context: z, candidate: c)
                let theta = state.posterior.arms[map.arm(ofCandidate: c)!].mean
                var eta = 0.0
                for k in 0..<psi.count where psi[k] != 0 { eta += psi[k] * theta[k] }
                return state.posterior.link == .logistic ? sigmoid(eta) : min(max(eta, 0), 1)
            }
        }
    }
}
