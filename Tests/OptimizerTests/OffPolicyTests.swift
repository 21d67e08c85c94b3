import Foundation
import Testing
@testable import Optimizer

/// The synthetic log of scripts/reference/ope.py, with obp 0.5.7's estimates and scikit-learn's reward models.
struct OPEFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ope")

    let log: LoggedFeedback
    let target: ActionDistribution
    /// scikit-learn's LogisticRegression q(x, a), rounds x actions.
    let qHat: Matrix
    /// scikit-learn's Ridge q(x, a) of `amount`.
    let qRidge: Matrix
    let amount: [Double]
    let expected: [String: Any]

    /// Numeric columns of a plain CSV file by name.
    static func columns(_ name: String) throws -> [String: [Double]] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        var out = [String: [Double]]()
        for h in header { out[h] = [] }
        for line in lines.dropFirst() {
            for (h, field) in zip(header, line.split(separator: ",")) { out[h]!.append(Double(field)!) }
        }
        return out
    }

    init() throws {
        let log = try Self.columns("log.csv"), target = try Self.columns("target.csv"), pred = try Self.columns("predictions.csv")
        expected = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json"))) as! [String: Any]
        let k = expected["actions"] as! Int
        let n = log["action"]!.count
        let x = (0..<3).flatMap { log["x\($0)"]! }
        self.log = try LoggedFeedback(actions: log["action"]!.map { Int($0) }, rewards: log["reward"]!,
                                      propensities: log["propensity"]!, contexts: Matrix(rows: n, columns: 3, columnMajor: x),
                                      positions: log["position"]!.map { Int($0) }, actionCount: k)
        self.target = try ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: (0..<k).flatMap { target["p_\($0)"]! }))
        qHat = Matrix(rows: n, columns: k, columnMajor: (0..<k).flatMap { pred["q_\($0)"]! })
        qRidge = Matrix(rows: n, columns: k, columnMajor: (0..<k).flatMap { pred["ridge_\($0)"]! })
        amount = pred["amount"]!
    }

    func reference(_ group: String?) -> [String: Any] {
        group.map { (expected["by_position"] as! [String: Any])[$0] as! [String: Any] } ?? expected["overall"] as! [String: Any]
    }
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / Swift.max(abs(b), 1e-300) }

/// A synthetic world with known reward probabilities: d contexts ~ N(0, 1), K actions, a softmax
/// logging policy, a softmax target policy, and P(r = 1 | x, a) = σ(b_a + xᵀθ_a).
struct SyntheticWorld {
    let d = 3, k = 4
    let loggingWeights: Matrix, targetWeights: Matrix, theta: Matrix
    let bias: [Double]

    init(seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        loggingWeights = Matrix(rows: 3, columns: 4, columnMajor: (0..<12).map { _ in 0.5 * rng.normal() })
        targetWeights = Matrix(rows: 3, columns: 4, columnMajor: (0..<12).map { _ in 1.5 * rng.normal() })
        theta = Matrix(rows: 3, columns: 4, columnMajor: (0..<12).map { _ in 0.8 * rng.normal() })
        bias = (0..<4).map { _ in -1 + 0.5 * rng.normal() }
    }

    func softmax(_ x: [Double], _ w: Matrix) -> [Double] {
        let z = (0..<k).map { a in (0..<d).reduce(0.0) { $0 + x[$1] * w[$1, a] } }
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func rewardProbability(_ x: [Double], _ a: Int) -> Double {
        sigmoid(bias[a] + (0..<d).reduce(0.0) { $0 + x[$1] * theta[$1, a] })
    }

    /// The target policy's value `E_x Σ_a π(a|x) P(r=1|x,a)`, by Monte Carlo over `samples` contexts.
    func trueTargetValue(samples: Int, seed: UInt64) -> Double {
        var rng = Xoshiro256(seed: seed)
        var total = 0.0
        for _ in 0..<samples {
            let x = (0..<d).map { _ in rng.normal() }
            let pi = softmax(x, targetWeights)
            for a in 0..<k { total += pi[a] * rewardProbability(x, a) }
        }
        return total / Double(samples)
    }

    /// A log of `n` rounds under the logging policy and the target's probabilities on it.
    func log(rounds n: Int, seed: UInt64) throws -> (LoggedFeedback, ActionDistribution) {
        var rng = Xoshiro256(seed: seed)
        var contexts = [Double](repeating: 0, count: n * d), actions = [Int](), rewards = [Double](), propensities = [Double]()
        var target = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let x = (0..<d).map { _ in rng.normal() }
            for j in 0..<d { contexts[i + j * n] = x[j] }
            let p = softmax(x, loggingWeights)
            var u = rng.uniform(), a = 0
            while a < k - 1 && u >= p[a] { u -= p[a]; a += 1 }
            actions.append(a)
            propensities.append(p[a])
            rewards.append(rng.uniform() < rewardProbability(x, a) ? 1 : 0)
            let pi = softmax(x, targetWeights)
            for b in 0..<k { target[i + b * n] = pi[b] }
        }
        return (try LoggedFeedback(actions: actions, rewards: rewards, propensities: propensities,
                                   contexts: Matrix(rows: n, columns: d, columnMajor: contexts), actionCount: k),
                try ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: target)))
    }
}

@Suite("Off-policy evaluation")
struct OffPolicyTests {
    @Test("IPW and SNIPW of the logging policy equal the logged mean reward exactly")
    func loggingPolicyValue() throws {
        let f = try OPEFixture()
        let logging = ActionDistribution.loggingPolicy(of: f.log)
        let mean = f.log.rewards.reduce(0, +) / Double(f.log.count)
        #expect(mean == f.expected["logged_mean_reward"] as! Double)
        #expect(InverseProbabilityWeighting().policyValue(f.log, target: logging) == mean)
        #expect(SelfNormalizedInverseProbabilityWeighting().policyValue(f.log, target: logging) == mean)
        let weights = ImportanceWeightSummary(f.log.importanceWeights(logging))
        #expect(weights.effectiveSampleSize == Double(f.log.count))
        #expect(weights.maximum == 1)
    }

    @Test("A target policy's probabilities sum to 1; rows that do not are rejected with their row")
    func probabilitiesSumToOne() throws {
        let f = try OPEFixture()
        let p = f.target.probabilities
        for i in 0..<p.rows {
            let s = (0..<p.columns).reduce(0.0) { $0 + p[i, $1] }
            #expect(abs(s - 1) < 1e-12)
        }
        let logging = ActionDistribution.loggingPolicy(of: f.log).probabilities
        #expect((0..<logging.rows).allSatisfy { i in abs((0..<logging.columns).reduce(0.0) { $0 + logging[i, $1] } - 1) < 1e-12 })
        let bad = Matrix(rows: 2, columns: 2, rowMajor: [0.5, 0.5, 0.6, 0.5])
        #expect(throws: OffPolicyDataError(row: 1, field: "probabilities", value: "1.1",
                                           message: "the row's action probabilities sum to 1.1; they must sum to 1 (within 1e-06)")) {
            try ActionDistribution(probabilities: bad)
        }
        let negative = Matrix(rows: 1, columns: 2, rowMajor: [-0.1, 1.1])
        #expect(throws: OffPolicyDataError.self) { try ActionDistribution(probabilities: negative) }
    }

    @Test("Logged feedback rejects propensities outside (0, 1] and actions outside the range, naming the row")
    func validation() throws {
        let x = Matrix(rows: 2, columns: 1, columnMajor: [0.1, 0.2])
        #expect(throws: OffPolicyDataError.self) {
            try LoggedFeedback(actions: [0, 1], rewards: [1, 0], propensities: [0.5, 0], contexts: x, actionCount: 2)
        }
        do {
            _ = try LoggedFeedback(actions: [0, 1], rewards: [1, 0], propensities: [0.5, 1.5], contexts: x, actionCount: 2)
            Issue.record("a propensity of 1.5 was accepted")
        } catch let error as OffPolicyDataError {
            #expect(error.row == 1 && error.field == "propensity" && error.value == "1.5")
        }
        do {
            _ = try LoggedFeedback(actions: [0, 2], rewards: [1, 0], propensities: [0.5, 0.5], contexts: x, actionCount: 2)
            Issue.record("action 2 of 2 was accepted")
        } catch let error as OffPolicyDataError {
            #expect(error.row == 1 && error.field == "action" && error.value == "2")
        }
        #expect(throws: OffPolicyDataError.self) {
            try LoggedFeedback(actions: [0, 1], rewards: [1, 0], propensities: [0.5, 0.5], contexts: x,
                               positions: [0, 3], actionCount: 2, positionCount: 2)
        }
    }

    @Test("IPW, SNIPW, DM and DR equal Open Bandit Pipeline 0.5.7's, overall and per position")
    func matchesOpenBanditPipeline() throws {
        let f = try OPEFixture()
        let groups: [(String?, [Int]?)] = [(nil, nil), ("0", f.log.rows(atPosition: 0)), ("1", f.log.rows(atPosition: 1))]
        for (group, rows) in groups {
            let ref = f.reference(group)
            let se = ref["std_error"] as! [String: Double]
            for kind in OffPolicyEstimatorKind.allCases {
                let e = kind.estimator.estimate(f.log, target: f.target, predictedRewards: f.qHat, rows: rows)
                #expect(e.rounds == ref["n"] as! Int)
                #expect(relativeError(e.estimate, ref[kind.rawValue] as! Double) < 1e-12, "\(kind) \(group ?? "all")")
                #expect(relativeError(e.standardError, se[kind.rawValue]!) < 1e-10, "\(kind) standard error \(group ?? "all")")
                #expect(abs((e.upper - e.lower) / 2 - 1.959963984540054 * e.standardError) < 1e-14)
            }
        }
        // The evaluation runs the same estimators and splits by position.
        let report = OffPolicyEvaluation().run(f.log, target: f.target, predictedRewards: f.qHat)
        #expect(report.byPosition.count == 2)
        #expect(relativeError(report.byPosition[1][.dr]!.estimate, f.reference("1")["dr"] as! Double) < 1e-12)
        #expect(relativeError(report.overall[.snipw]!.estimate, f.reference(nil)["snipw"] as! Double) < 1e-12)
    }

    @Test("The reward model equals scikit-learn's LogisticRegression(C = 1/λ) and Ridge(alpha = λ) on the same design")
    func rewardModelMatchesScikitLearn() throws {
        let f = try OPEFixture()
        let fit = try PenalisedRewardModel(l2: 1).fit(f.log, rows: nil)
        #expect(fit.link == .logistic && fit.report.converged)
        let q = fit.predict(f.log, rows: nil)
        #expect(q.maxAbsDifference(f.qHat) < 1e-9)
        let reference = f.expected["logistic"] as! [String: Any]
        #expect(abs(fit.coefficients[0] - (reference["intercept"] as! Double)) < 1e-8)
        let coefficients = reference["coefficients"] as! [Double]
        #expect(coefficients.count == fit.layout.width - 1)
        for (j, c) in coefficients.enumerated() { #expect(abs(fit.coefficients[j + 1] - c) < 1e-8, "\(fit.layout.columnNames[j + 1])") }

        let amounts = try LoggedFeedback(actions: f.log.actions, rewards: f.amount, propensities: f.log.propensities,
                                         contexts: f.log.contexts, positions: f.log.positions, actionCount: f.log.actionCount)
        let ridge = try PenalisedRewardModel(l2: 1).fit(amounts, rows: nil)
        #expect(ridge.link == .identity && ridge.report.kind == "ridge")
        #expect(ridge.predict(amounts, rows: nil).maxAbsDifference(f.qRidge) < 1e-9)
        // Predictions of a subset equal the subset's rows of all predictions.
        let rows = [5, 17, 1999]
        let some = fit.predict(f.log, rows: rows)
        for (j, i) in rows.enumerated() { for a in 0..<5 { #expect(abs(some[j, a] - q[i, a]) < 1e-14) } }
    }

    @Test("Cross-fitting predicts each fold with a model fitted on the other folds")
    func crossFitting() throws {
        let f = try OPEFixture()
        let model = PenalisedRewardModel(l2: 1)
        let cross = try model.predictions(for: f.log, folds: 4, seed: 11)
        #expect(cross.fits.count == 4)
        #expect(cross.folds.flatMap { $0 }.sorted() == Array(0..<f.log.count))
        #expect(cross.folds.allSatisfy { abs($0.count - f.log.count / 4) <= 1 })
        let fold = cross.folds[2]
        let others = Set(0..<f.log.count).subtracting(fold).sorted()
        let own = try model.fit(f.log, rows: others).predict(f.log, rows: fold)
        for (j, i) in fold.enumerated() { for a in 0..<5 { #expect(abs(cross.predictions[i, a] - own[j, a]) < 1e-12) } }
        // Out-of-fold predictions differ from in-sample ones, and the same seed deals the same folds.
        #expect(cross.predictions.maxAbsDifference(f.qHat) > 1e-3)
        #expect(try model.predictions(for: f.log, folds: 4, seed: 11).folds == cross.folds)
    }

    @Test("The true value of a target policy lies in the DR interval in at least 85% of 50 seeds")
    func doublyRobustCoverage() throws {
        let world = SyntheticWorld(seed: 7)
        let truth = world.trueTargetValue(samples: 200_000, seed: 99)
        var covered = 0
        for seed in 1...50 {
            let (log, target) = try world.log(rounds: 2000, seed: UInt64(1000 + seed))
            let report = try OffPolicyEvaluation(estimators: [.dr], crossFitFolds: 2, seed: UInt64(seed)).run(log, target: target)
            let dr = report.overall[.dr]!
            if dr.lower <= truth && truth <= dr.upper { covered += 1 }
        }
        #expect(Double(covered) / 50 >= 0.85, "DR covered the true value \(truth) in \(covered) of 50 seeds")
    }

    @Test("Standard normal quantiles agree with scipy.stats.norm.ppf")
    func normalQuantiles() {
        let cases: [(Double, Double)] = [(0.975, 1.959963984540054), (0.995, 2.5758293035489004), (0.5, 0),
                                         (0.05, -1.6448536269514729), (1e-10, -6.361340902404056), (0.9999, 3.719016485455709)]
        for (p, z) in cases { #expect(abs(SpecialFunctions.normalQuantile(p) - z) <= 1e-14 * Swift.max(1, abs(z)), "p = \(p)") }
    }

    @Test("Bootstrap intervals are reproducible from their seed and agree with the delta method")
    func bootstrap() throws {
        let f = try OPEFixture()
        let method = IntervalMethod.bootstrap(resamples: 400, seed: 5)
        let a = DoublyRobust().estimate(f.log, target: f.target, predictedRewards: f.qHat, method: method)
        let b = DoublyRobust().estimate(f.log, target: f.target, predictedRewards: f.qHat, method: method)
        let normal = DoublyRobust().estimate(f.log, target: f.target, predictedRewards: f.qHat)
        #expect(a == b)
        #expect(a.estimate == normal.estimate)
        #expect(a.lower < a.estimate && a.estimate < a.upper)
        #expect(abs(a.standardError / normal.standardError - 1) < 0.15)
        let snipw = SelfNormalizedInverseProbabilityWeighting().estimate(f.log, target: f.target, method: method)
        let snipwNormal = SelfNormalizedInverseProbabilityWeighting().estimate(f.log, target: f.target)
        #expect(abs(snipw.standardError / snipwNormal.standardError - 1) < 0.15)
    }
}
