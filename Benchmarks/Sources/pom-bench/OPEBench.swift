import Foundation
import LinAlg
import Optimizer

/// Off-policy evaluation on 1,000,000 logged rounds x 18 actions, 4 context features: the four
/// estimators with normal intervals given reward predictions, a bootstrap interval, and the
/// penalised logistic reward model (fit and predictions for all actions).
/// The peer figures (Open Bandit Pipeline 0.5.7 and scikit-learn on the same kind of data, same
/// sitting) come from Benchmarks/peers/ope.py.
func opeBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    let n = size(1_000_000, quick: 100_000), k = 18, d = 4
    let rounds = countLabel(n)
    var rng = Xoshiro256(seed: 2026)
    let loggingW = (0..<(d * k)).map { _ in 0.5 * rng.normal() }
    let targetW = (0..<(d * k)).map { _ in rng.normal() }
    let theta = (0..<(d * k)).map { _ in 0.5 * rng.normal() }
    let bias = (0..<k).map { _ in -1.5 + 0.5 * rng.normal() }
    var contexts = [Double](repeating: 0, count: n * d), target = [Double](repeating: 0, count: n * k)
    var actions = [Int](repeating: 0, count: n), rewards = [Double](repeating: 0, count: n), propensities = [Double](repeating: 0, count: n)
    var x = [Double](repeating: 0, count: d), p = [Double](repeating: 0, count: k)
    func softmax(_ w: [Double], into out: inout [Double]) {
        var m = -Double.infinity
        for a in 0..<k {
            var z = 0.0
            for j in 0..<d { z += x[j] * w[j + a * d] }
            out[a] = z
            m = max(m, z)
        }
        var s = 0.0
        for a in 0..<k { out[a] = exp(out[a] - m); s += out[a] }
        for a in 0..<k { out[a] /= s }
    }
    for i in 0..<n {
        for j in 0..<d { x[j] = rng.normal(); contexts[i + j * n] = x[j] }
        softmax(loggingW, into: &p)
        var u = rng.uniform(), a = 0
        while a < k - 1 && u >= p[a] { u -= p[a]; a += 1 }
        actions[i] = a
        propensities[i] = p[a]
        var z = bias[a]
        for j in 0..<d { z += x[j] * theta[j + a * d] }
        rewards[i] = rng.uniform() < sigmoid(z) ? 1 : 0
        softmax(targetW, into: &p)
        for b in 0..<k { target[i + b * n] = p[b] }
    }
    let log = try LoggedFeedback(actions: actions, rewards: rewards, propensities: propensities,
                                 contexts: Matrix(rows: n, columns: d, columnMajor: contexts), actionCount: k)
    let policy = try ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: target))

    let model = PenalisedRewardModel(l2: 1)
    var fit: PenalisedRewardModel.Fit? = nil
    let p95 = PenalisedRewardModel.Layout(contextDimension: d, actionCount: k, positionCount: 1).width
    results.append(try measure("ope", "reward model: penalised logistic Newton fit, \(rounds)x\(p95) design (incl. building it)", runs: 1,
                               note: "scikit-learn LogisticRegression(newton-cholesky) in the peer") {
        fit = try model.fit(log, rows: nil)
    })
    let q = fit!.predict(log, rows: nil)
    results.append(measure("ope", "reward model: predict q(x, a) for \(rounds) rounds x 18 actions") {
        blackHole(fit!.predict(log, rows: nil))
    })
    for kind in OffPolicyEstimatorKind.allCases {
        results.append(measure("ope", "\(kind.rawValue): estimate + normal CI, \(rounds) rounds x 18 actions", runs: 9,
                               rate: { Double(n) / $0 / 1e6 }, unit: "M rounds/s") {
            blackHole(kind.estimator.estimate(log, target: policy, predictedRewards: q))
        })
    }
    results.append(measure("ope", "all four with CIs (one evaluation), \(rounds) x 18", runs: 5) {
        blackHole(OffPolicyEvaluation().run(log, target: policy, predictedRewards: q))
    })
    results.append(measure("ope", "ipw: bootstrap CI, 100 resamples, \(rounds) rounds", runs: 3) {
        blackHole(InverseProbabilityWeighting().estimate(log, target: policy, method: .bootstrap(resamples: 100, seed: 1)))
    })
    let dr = DoublyRobust().estimate(log, target: policy, predictedRewards: q)
    results.append(BenchResult(group: "ope", name: "check: DR estimate and CI", medianSeconds: 0, runs: 1, rate: dr.estimate,
                               rateUnit: String(format: "[%.4f, %.4f], reward model converged: %@ in %d iterations",
                                                dr.lower, dr.upper, fit!.report.converged ? "yes" : "no", fit!.report.iterations),
                               peakRSSMiB: peakRSSMiB()))
    return results
}
