import Foundation
import Testing
@testable import Optimizer
import Vocabulary

/// A LinUCB model over `d` seeded features fitted on `rows` logged rows whose arms are drawn from
/// `arms` (channel×tone arm indices; the others stay untrained, so their posteriors are equal).
private func seededModel(d: Int, effectFeatures: Int, noContact: Bool, rows: Int, arms: Range<Int> = 0..<18,
                         grouping: ArmGrouping = .channelTone, seed: UInt64) throws -> RidgeBandit {
    var rng = Xoshiro256(seed: seed)
    let names = ["intercept"] + (1..<d).map { "x\($0)" }
    let map = BanditFeatureMap(contextFeatures: names, grouping: grouping, effectFeatureCount: effectFeatures, modelsNoContact: noContact)
    let theta = (0..<map.armCount).map { _ in (0..<d).map { _ in 0.3 * rng.normal() } }
    var x = [Double](repeating: 0, count: rows * d)
    var candidates = [Int](), rewards = [Double]()
    for i in 0..<rows {
        x[i] = 1
        for j in 1..<d { x[i + j * rows] = rng.normal() }
        let arm = arms.lowerBound + Int(rng.uniform() * Double(arms.count))
        let action = DeliveryAction(channel: Channel.allCases[arm / 3], tone: Tone.allCases[arm % 3],
                                    weekday: Weekday.allCases[Int(rng.uniform() * 7)], hour: HourBucket.allCases[Int(rng.uniform() * 6)])
        let c = noContact && rng.uniform() < 0.05 ? Candidate.noContactIndex : action.index
        let g = map.arm(ofCandidate: c)!
        var mean = 0.0
        for j in 0..<d { mean += theta[g][j] * x[i + j * rows] }
        candidates.append(c)
        rewards.append(rng.uniform() < sigmoid(mean) ? 1 : 0)
    }
    let log = try BanditLog(contexts: Matrix(rows: rows, columns: d, columnMajor: x), candidates: candidates, rewards: rewards,
                            propensities: [Double](repeating: 1.0 / Double(Candidate.count), count: rows))
    return try LinUCB(alpha: 1, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7))
}

private func seededContexts(n: Int, d: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256(seed: seed)
    return Matrix(rows: n, columns: d) { _, j in j == 0 ? 1 : rng.normal() }
}

@Suite("Fast paths agree with the straightforward ones")
struct FastPathTests {
    @Test("Batch LinUCB argmax with pruning equals the argmax of all scores", arguments: [0.0, 0.3, 1.0, 4.0])
    func batchArgmaxEqualsFullScoring(alpha: Double) throws {
        let trained = try seededModel(d: 20, effectFeatures: 0, noContact: false, rows: 20_000, seed: 1)
        let scorer = BatchLinUCBScorer(posterior: trained.posterior, alpha: alpha)
        let x = seededContexts(n: 3_000, d: 20, seed: 2)
        let fast = scorer.bestArms(x)
        #expect(fast == scorer.bestArmsByScores(x))
        // Several arms win somewhere (the check is not about one dominant arm).
        #expect(Set(fast).count >= 5, "arms chosen: \(Set(fast).sorted())")
    }

    @Test("Untrained arms (equal posteriors, exact ties) go to the lowest index in both paths")
    func batchArgmaxTies() throws {
        let partly = try seededModel(d: 6, effectFeatures: 0, noContact: false, rows: 300, arms: 3..<6, seed: 3)
        for alpha in [0.0, 1.0, 2.5] {
            let scorer = BatchLinUCBScorer(posterior: partly.posterior, alpha: alpha)
            let x = seededContexts(n: 2_000, d: 6, seed: 4)
            let fast = scorer.bestArms(x)
            #expect(fast == scorer.bestArmsByScores(x), "alpha \(alpha)")
            // Untrained arms 0...2 and 6...17 share one posterior: only arm 0 of them can ever be chosen.
            #expect(fast.allSatisfy { $0 == 0 || (3..<6).contains($0) }, "alpha \(alpha)")
        }
    }

    @Test("Batch argmax on one row and on more rows than one block")
    func batchShapes() throws {
        let model = try seededModel(d: 5, effectFeatures: 0, noContact: false, rows: 2_000, seed: 5)
        let scorer = BatchLinUCBScorer(posterior: model.posterior, alpha: 1)
        for n in [1, 255, 256, 257, 1_031] {
            let x = seededContexts(n: n, d: 5, seed: UInt64(n))
            #expect(scorer.bestArms(x) == scorer.bestArmsByScores(x), "n = \(n)")
        }
        #expect(scorer.bestArms(Matrix(rows: 0, columns: 5)).isEmpty)
    }
}

/// Every allowed candidate's LinUCB score from its full feature vector: `θ_gᵀψ + α·√(ψᵀΣ_gψ)`.
private func straightforwardScores(_ posterior: BanditPosterior, alpha: Double, context x: [Double],
                                   allowed: CandidateSet) -> [Double] {
    let map = posterior.featureMap, p = map.armFeatureCount
    var out = [Double](repeating: -.infinity, count: Candidate.count)
    allowed.forEachIndex { c in
        guard let g = map.arm(ofCandidate: c) else { return }
        let psi = map.features(context: x, candidate: c)
        let arm = posterior.arms[g]
        var mean = 0.0, variance = 0.0
        for i in 0..<p {
            mean += arm.mean[i] * psi[i]
            for j in 0..<p { variance += psi[i] * arm.covariance[i + j * p] * psi[j] }
        }
        out[c] = mean + alpha * Swift.max(variance, 0).squareRoot()
    }
    return out
}

extension FastPathTests {
    @Test("LinUCB decisions over the constrained space equal the scores of the full feature vectors",
          arguments: [(ArmGrouping.channelTone, 1), (.channelTone, 3), (.channel, 1), (.channelTone, 0)])
    func linUCBDecisionsEqualStraightforwardScores(grouping: ArmGrouping, k: Int) throws {
        let model = try seededModel(d: 8, effectFeatures: k, noContact: true, rows: 6_000, grouping: grouping, seed: 11)
        let allowed = ActionConstraints(contactPoints: Channel.allCases.map { ContactPoint(channel: $0) },
                                        flow: FlowRestrictions(allowsNoContact: true)).candidates
        let alpha = 0.7
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: alpha)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 3)
        var rng = Xoshiro256(seed: 12)
        for t in 0..<40 {
            let x = [1.0] + (1..<8).map { _ in rng.normal() }
            let decision = try decider.decide(BanditRequest(context: x, candidates: allowed, runID: 1, customerID: UInt64(t)))
            let reference = straightforwardScores(model.posterior, alpha: alpha, context: x, allowed: allowed)
            var worst = 0.0
            var best = -1
            allowed.forEachIndex { c in
                guard reference[c] > -.infinity else { return }
                worst = Swift.max(worst, abs(decision.scores[c] - reference[c]) / Swift.max(1, abs(reference[c])))
                if best < 0 || reference[c] > reference[best] { best = c }
            }
            #expect(worst < 1e-12, "context \(t): largest relative difference \(worst)")
            // The greedy choice among the best (several tie exactly when no effect separates send times).
            let top1 = decision.scores[best]
            let ties = (0..<Candidate.count).filter { decision.scores[$0] >= top1 - 1e-12 * Swift.max(1, abs(top1)) }
            #expect(ties.contains(decision.candidate.index), "context \(t)")
            #expect(abs(decision.propensity - 1 / Double(ties.count)) < 1e-15)
            if k > 0 { #expect(ties == [best], "context \(t)") }
            // The ten alternatives are the ten best scores, best first, ties to the lower index.
            let top = decision.alternatives(top: 10)
            let sorted = (0..<Candidate.count).filter { decision.scores[$0] > -.infinity }
                .sorted { decision.scores[$0] > decision.scores[$1] || (decision.scores[$0] == decision.scores[$1] && $0 < $1) }
            #expect(top.map(\.candidate.index) == Array(sorted.prefix(10)))
            #expect(decision.alternatives(top: 1000).map(\.candidate.index) == sorted)
        }
    }
}
