import Foundation

/// One decision to make: the customer's context, the allowed candidates, the amount at stake.
public struct BanditRequest: Sendable {
    /// Context features in the order of `BanditFeatureMap.contextFeatures`.
    public var context: [Double]
    /// Allowed candidates (from `ActionConstraints.candidates`).
    public var candidates: CandidateSet
    /// Open amount of the case; used by the net-amount objective with a logistic model.
    public var amountDue: Double
    public var runID: UInt64
    public var customerID: UInt64

    public init(context: [Double], candidates: CandidateSet, amountDue: Double = 0, runID: UInt64, customerID: UInt64) {
        self.context = context
        self.candidates = candidates
        self.amountDue = amountDue
        self.runID = runID
        self.customerID = customerID
    }
}

/// How a decision's propensity was obtained.
public enum PropensityMethod: Hashable, Codable, Sendable {
    /// Computed from the policy's closed-form distribution.
    case exact
    /// The share of `draws` posterior draws in which the candidate won (Thompson sampling).
    case monteCarlo(draws: Int)
}

/// One term of a score: a feature's coefficient times its value (on the model's scale).
public struct FeatureContribution: Hashable, Codable, Sendable {
    public var feature: String
    public var value: Double
}

/// Why the chosen candidate scored as it did.
public struct BanditExplanation: Hashable, Codable, Sendable {
    /// The arm (model) that scored the candidate, e.g. `sms/friendly`.
    public var arm: String
    /// `"logit"` (logistic model) or `"reward"` (linear model).
    public var scale: String
    /// `ψᵀθ`, the posterior-mean linear predictor.
    public var linearPredictor: Double
    /// The largest contributions `θ_j ψ_j` by absolute value (at most three), then the channel cost if any.
    public var contributions: [FeatureContribution]
    /// LinUCB's bonus `α·√(ψᵀA⁻¹ψ)`.
    public var explorationBonus: Double?

    /// `sms/friendly: +0.42 intercept, +0.31 weekday=tuesday×intercept, −0.12 days_overdue`.
    public var summary: String {
        arm + ": " + contributions.map { String(format: "%+.3g %@", $0.value, $0.feature) }.joined(separator: ", ")
    }
}

/// A candidate with its score and probability, for showing the alternatives.
public struct ScoredCandidate: Hashable, Sendable {
    public var candidate: Candidate
    public var score: Double
    public var probability: Double
}

/// The outcome of one decision: what was chosen, with which probability, why, and the alternatives.
public struct BanditDecision: Sendable {
    public let candidate: Candidate
    /// Probability with which `candidate` was chosen (for off-policy evaluation).
    public let propensity: Double
    public let propensityMethod: PropensityMethod
    /// The policy's ranking score per candidate index (`−∞` outside the allowed set): the upper
    /// confidence bound for LinUCB, else the expected utility under the posterior mean.
    public let scores: [Double]
    /// The policy's probability per candidate index (0 outside the allowed set; sums to 1).
    public let probabilities: [Double]
    public let explanation: BanditExplanation
    /// The generator seed the decision used (derived from the decider's seed, run id and customer id).
    public let seed: UInt64

    /// The allowed candidates, best score first.
    public func alternatives(top n: Int = .max) -> [ScoredCandidate] {
        let items = scores.indices.filter { scores[$0] > -.infinity }
            .map { ScoredCandidate(candidate: Candidate(index: $0), score: scores[$0], probability: probabilities[$0]) }
        return Array(items.sorted { $0.score > $1.score || ($0.score == $1.score && $0.candidate.index < $1.candidate.index) }.prefix(n))
    }
}

/// Step 1's output: everything scored for one request.
public struct CandidateScores: Sendable {
    /// The candidates that are allowed and scorable.
    public let allowed: CandidateSet
    /// Utility of the posterior-mean prediction per candidate index (`−∞` outside `allowed`).
    public let expected: [Double]
    /// LinUCB's optimistic utility per candidate index, else `nil`.
    public let upperBounds: [Double]?
    /// The scores the policy ranks by.
    public var ranking: [Double] { upperBounds ?? expected }

    // Thompson sampling state: allowed candidates in index order with their arm, active blocks and
    // cost; per-arm block means and Cholesky factors of the block-score covariance.
    let list: [Int]
    let listArm: [Int]
    let listBlocks: [Int16]
    let listCost: [Double]
    let blockMeans: [[Double]]
    let blockCholesky: [[Double]]
    let utilityScale: Double
    let logistic: Bool
}

/// Makes decisions with a policy over a trained posterior, in Vowpal Wabbit's three pure steps:
/// `scores` (model → per-candidate scores), `distribution` (scores → probabilities),
/// `sample` (probabilities + seeded generator → candidate). `decide` runs the three and adds the
/// propensity and an explanation. Every decision is replayable: its generator is
/// `Xoshiro256(seed: seed, keys: runID, customerID)`.
///
/// ```swift
/// let model = try LinUCB(alpha: 1, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7))
/// let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 1)), posterior: model.posterior,
///                                 objective: .paymentProbability(horizonDays: 7), seed: 2026)
/// let decision = try decider.decide(BanditRequest(context: x, candidates: constraints.candidates,
///                                                runID: 17, customerID: 4711))
/// print(decision.candidate, decision.propensity, decision.explanation.summary)
/// ```
/// Complexity per decision: `O(G·p²)` for the block quadratic forms (LinUCB, Thompson sampling)
/// or `O(G·p)` (ε-greedy, softmax), plus `O(n)` over the `n ≤ 757` allowed candidates; Thompson
/// sampling adds `O(M·(G·B² + n))` for `M` propensity draws.
public struct BanditDecider: Sendable {
    public let policy: BanditPolicy
    public let posterior: BanditPosterior
    public let objective: DecisionObjective
    public let seed: UInt64

    /// - Throws: `BanditError.objectiveMismatch` if the objective does not fit the model, or if the
    ///   policy needs another model kind (LinUCB/linear TS need a linear model, logistic TS a logistic one).
    public init(policy: BanditPolicy, posterior: BanditPosterior, objective: DecisionObjective, seed: UInt64) throws {
        try objective.validate(reward: posterior.reward, link: posterior.link)
        switch (policy, posterior.link) {
        case (.linUCB, .logistic), (.linearThompson, .logistic):
            throw BanditError.objectiveMismatch("\(policy.name) needs a linear (ridge) model; this posterior is logistic")
        case (.logisticThompson, .identity):
            throw BanditError.objectiveMismatch("logistic-thompson needs a logistic (Laplace) model; this posterior is linear")
        default: break
        }
        self.policy = policy
        self.posterior = posterior
        self.objective = objective
        self.seed = seed
    }

    /// The decision generator for a run and a customer.
    public func generator(runID: UInt64, customerID: UInt64) -> Xoshiro256 {
        Xoshiro256(seed: seed, keys: runID, customerID)
    }

    // MARK: Step 1: scores

    /// Scores every allowed candidate (pure).
    public func scores(_ request: BanditRequest) -> CandidateScores {
        let map = posterior.featureMap
        precondition(request.context.count == map.contextDimension,
                     "BanditDecider: context has \(request.context.count) features, the model \(map.contextDimension)")
        let allowed = request.candidates.intersection(map.scorableCandidates)
        let logistic = posterior.link == .logistic
        var scale = 1.0
        if case .expectedNetAmount = objective, logistic {
            precondition(request.amountDue >= 0 && request.amountDue.isFinite, "BanditDecider: amountDue \(request.amountDue)")
            scale = request.amountDue
        }
        let needQ: Bool, ucbAlpha: Double?, thompsonAlpha: Double?
        switch policy {
        case .linUCB(let c): needQ = c.alpha > 0; ucbAlpha = c.alpha; thompsonAlpha = nil
        case .linearThompson(let c): needQ = true; ucbAlpha = nil; thompsonAlpha = c.alpha
        case .logisticThompson(let c): needQ = true; ucbAlpha = nil; thompsonAlpha = c.alpha
        case .epsilonGreedy, .softmax: needQ = false; ucbAlpha = nil; thompsonAlpha = nil
        }

        let nb = map.blockCount
        var list = [Int](), listArm = [Int](), listBlocks = [Int16](), listCost = [Double]()
        list.reserveCapacity(allowed.count)
        var armUsed = [Bool](repeating: false, count: map.armCount)
        allowed.forEachIndex { c in
            let g = Int(map.candidateArm[c])
            list.append(c)
            listArm.append(g)
            if c == Candidate.noContactIndex {
                listBlocks.append(contentsOf: [-1, -1, -1])
            } else {
                listBlocks.append(contentsOf: map.candidateBlocks[(c * 3)..<(c * 3 + 3)])
            }
            listCost.append(objective.cost(ofCandidate: c))
            armUsed[g] = true
        }

        var blockMeans = [[Double]](repeating: [], count: map.armCount)
        var blockQ = [[Double]](repeating: [], count: map.armCount)
        for g in 0..<map.armCount where armUsed[g] {
            let (m, q) = blockForms(arm: g, context: request.context, quadratic: needQ)
            blockMeans[g] = m
            blockQ[g] = q
        }

        var expected = [Double](repeating: -.infinity, count: Candidate.count)
        var upper: [Double]? = ucbAlpha == nil ? nil : [Double](repeating: -.infinity, count: Candidate.count)
        for (e, c) in list.enumerated() {
            let g = listArm[e]
            let m = blockMeans[g]
            var eta = m[0]
            var active = (0, -1, -1, -1)
            var na = 1
            for slot in 0..<3 {
                let b = Int(listBlocks[e * 3 + slot])
                if b >= 0 {
                    eta += m[b]
                    switch na { case 1: active.1 = b; case 2: active.2 = b; default: active.3 = b }
                    na += 1
                }
            }
            expected[c] = utility(eta, scale: scale, logistic: logistic, cost: listCost[e])
            if let alpha = ucbAlpha {
                var variance = 0.0
                if needQ {
                    let q = blockQ[g]
                    let ids = [active.0, active.1, active.2, active.3].prefix(na)
                    for a in ids { for b in ids { variance += q[a + b * nb] } }
                }
                upper![c] = utility(eta + alpha * Swift.max(variance, 0).squareRoot(), scale: scale, logistic: logistic, cost: listCost[e])
            }
        }

        var chol = [[Double]](repeating: [], count: map.armCount)
        if let alpha = thompsonAlpha {
            for g in 0..<map.armCount where armUsed[g] {
                chol[g] = semidefiniteCholesky(blockQ[g], n: nb).map { alpha * $0 }
            }
        }
        return CandidateScores(allowed: allowed, expected: expected, upperBounds: upper, list: list, listArm: listArm,
                               listBlocks: listBlocks, listCost: listCost, blockMeans: blockMeans, blockCholesky: chol,
                               utilityScale: scale, logistic: logistic)
    }

    @inline(__always)
    func utility(_ eta: Double, scale: Double, logistic: Bool, cost: Double) -> Double {
        (logistic ? sigmoid(eta) : eta) * scale - cost
    }

    /// Block means `m_b = θ_bᵀu_b` and block quadratic forms `Q_ab = u_aᵀ Σ_ab u_b` of arm `g`
    /// for context `x` (`u_0 = x`, effect blocks `u_b = x₁..ₖ`).
    func blockForms(arm g: Int, context x: [Double], quadratic: Bool) -> (mean: [Double], q: [Double]) {
        let map = posterior.featureMap
        let p = map.armFeatureCount, nb = map.blockCount
        let offsets = map.blockOffsets, sizes = map.blockSizes
        let arm = posterior.arms[g]
        var m = [Double](repeating: 0, count: nb)
        arm.mean.withUnsafeBufferPointer { theta in
            x.withUnsafeBufferPointer { xp in
                for b in 0..<nb {
                    var s = 0.0
                    let o = offsets[b]
                    for j in 0..<sizes[b] { s += theta[o + j] * xp[j] }
                    m[b] = s
                }
            }
        }
        guard quadratic else { return (m, []) }
        var q = [Double](repeating: 0, count: nb * nb)
        var w = [Double](repeating: 0, count: p)
        arm.covariance.withUnsafeBufferPointer { sigma in
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeMutableBufferPointer { wp in
                    for b in 0..<nb {
                        // w = Σ[:, block b] · u_b
                        for i in 0..<p { wp[i] = 0 }
                        let o = offsets[b]
                        for j in 0..<sizes[b] {
                            let xj = xp[j]
                            let col = sigma.baseAddress! + (o + j) * p
                            for i in 0..<p { wp[i] += col[i] * xj }
                        }
                        for a in 0...b {
                            var s = 0.0
                            let oa = offsets[a]
                            for i in 0..<sizes[a] { s += wp[oa + i] * xp[i] }
                            q[a + b * nb] = s
                            q[b + a * nb] = s
                        }
                    }
                }
            }
        }
        return (m, q)
    }

    // MARK: Step 2: distribution

    /// The policy's probability per candidate index (pure given `generator`'s state; only
    /// Thompson sampling draws from it, `propensityDraws` posterior draws).
    public func distribution(_ scores: CandidateScores, using generator: inout Xoshiro256) -> [Double] {
        switch policy {
        case .linUCB:
            return BanditDecider.greedy(scores.ranking, scores.allowed, epsilon: 0)
        case .epsilonGreedy(let c):
            return BanditDecider.greedy(scores.expected, scores.allowed, epsilon: c.epsilon)
        case .softmax(let c):
            return BanditDecider.softmax(scores.expected, scores.allowed, temperature: c.temperature)
        case .linearThompson(let c):
            return thompson(scores, draws: c.propensityDraws, &generator)
        case .logisticThompson(let c):
            return thompson(scores, draws: c.propensityDraws, &generator)
        }
    }

    /// `(1−ε)` split evenly over the best candidates (ties within `1e-12` relative) plus `ε/n` each.
    static func greedy(_ u: [Double], _ allowed: CandidateSet, epsilon: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        var best = -Double.infinity
        allowed.forEachIndex { best = Swift.max(best, u[$0]) }
        let tol = 1e-12 * Swift.max(1, abs(best))
        var ties = 0, n = 0
        allowed.forEachIndex { c in
            n += 1
            if u[c] >= best - tol { ties += 1 }
        }
        guard n > 0 else { return p }
        allowed.forEachIndex { c in
            p[c] = epsilon / Double(n) + (u[c] >= best - tol ? (1 - epsilon) / Double(ties) : 0)
        }
        return p
    }

    static func softmax(_ u: [Double], _ allowed: CandidateSet, temperature: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        var best = -Double.infinity
        allowed.forEachIndex { best = Swift.max(best, u[$0]) }
        var total = 0.0
        allowed.forEachIndex { c in
            let e = exp((u[c] - best) / temperature)
            p[c] = e
            total += e
        }
        if total > 0 { allowed.forEachIndex { p[$0] /= total } }
        return p
    }

    /// Monte-Carlo Thompson distribution: the share of `draws` posterior draws each candidate wins
    /// (a tie of `t` candidates gives each `1/t` of that draw).
    func thompson(_ s: CandidateScores, draws: Int, _ rng: inout Xoshiro256) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        let n = s.list.count
        guard n > 0 else { return p }
        let nb = posterior.featureMap.blockCount
        let armCount = posterior.featureMap.armCount
        var sampled = [Double](repeating: 0, count: armCount * nb)
        var z = [Double](repeating: 0, count: nb)
        var u = [Double](repeating: 0, count: n)
        var wins = [Double](repeating: 0, count: n)
        let usedArms = (0..<armCount).filter { !s.blockMeans[$0].isEmpty }
        for _ in 0..<draws {
            for g in usedArms {
                for b in 0..<nb { z[b] = rng.normal() }
                let m = s.blockMeans[g], l = s.blockCholesky[g]
                for b in 0..<nb {
                    var v = m[b]
                    for j in 0...b { v += l[b + j * nb] * z[j] }
                    sampled[g * nb + b] = v
                }
            }
            var best = -Double.infinity
            for e in 0..<n {
                let base = s.listArm[e] * nb
                var eta = sampled[base]
                for slot in 0..<3 {
                    let b = Int(s.listBlocks[e * 3 + slot])
                    if b >= 0 { eta += sampled[base + b] }
                }
                let value = utility(eta, scale: s.utilityScale, logistic: s.logistic, cost: s.listCost[e])
                u[e] = value
                if value > best { best = value }
            }
            let tol = 1e-12 * Swift.max(1, abs(best))
            var ties = 0
            for e in 0..<n where u[e] >= best - tol { ties += 1 }
            let share = 1 / Double(ties)
            for e in 0..<n where u[e] >= best - tol { wins[e] += share }
        }
        for e in 0..<n { p[s.list[e]] = wins[e] / Double(draws) }
        return p
    }

    // MARK: Step 3: sample

    /// Draws a candidate index from `probabilities` by inversion with one uniform (pure given the
    /// generator's state).
    public static func sample(_ probabilities: [Double], from allowed: CandidateSet, using generator: inout Xoshiro256) -> Int {
        let u = generator.uniform()
        var cumulative = 0.0
        var last = -1
        var chosen = -1
        allowed.forEachIndex { c in
            guard chosen < 0, probabilities[c] > 0 else { return }
            cumulative += probabilities[c]
            last = c
            if u < cumulative { chosen = c }
        }
        precondition(last >= 0, "BanditDecider.sample: no candidate has positive probability")
        return chosen >= 0 ? chosen : last
    }

    // MARK: The whole decision

    /// Scores, turns the scores into a distribution, samples, and explains.
    /// - Throws: `BanditError.noCandidates` when no allowed candidate can be scored.
    public func decide(_ request: BanditRequest) throws -> BanditDecision {
        let s = scores(request)
        if s.allowed.isEmpty { throw BanditError.noCandidates(customerID: request.customerID) }
        var rng = generator(runID: request.runID, customerID: request.customerID)
        let probabilities = distribution(s, using: &rng)
        let chosen = BanditDecider.sample(probabilities, from: s.allowed, using: &rng)
        let method: PropensityMethod
        switch policy {
        case .linearThompson(let c): method = .monteCarlo(draws: c.propensityDraws)
        case .logisticThompson(let c): method = .monteCarlo(draws: c.propensityDraws)
        default: method = .exact
        }
        return BanditDecision(candidate: Candidate(index: chosen), propensity: probabilities[chosen], propensityMethod: method,
                              scores: s.ranking, probabilities: probabilities,
                              explanation: explain(chosen, request: request, scores: s),
                              seed: Xoshiro256.derivedSeed(seed, keys: [request.runID, request.customerID]))
    }

    /// The top contributions to candidate `c`'s linear predictor.
    func explain(_ c: Int, request: BanditRequest, scores s: CandidateScores) -> BanditExplanation {
        let map = posterior.featureMap
        let g = Int(map.candidateArm[c])
        let psi = map.features(context: request.context, candidate: c)
        let theta = posterior.arms[g].mean
        var terms = [FeatureContribution]()
        var eta = 0.0
        for j in 0..<psi.count where psi[j] != 0 {
            let v = theta[j] * psi[j]
            eta += v
            terms.append(FeatureContribution(feature: map.featureName(j), value: v))
        }
        terms.sort { abs($0.value) > abs($1.value) }
        var top = Array(terms.prefix(3))
        let cost = objective.cost(ofCandidate: c)
        if cost != 0 {
            top.append(FeatureContribution(feature: "cost(\(Candidate(index: c).action!.channel.rawValue))", value: -cost))
        }
        var bonus: Double? = nil
        if case .linUCB(let cfg) = policy {
            let (_, q) = blockForms(arm: g, context: request.context, quadratic: cfg.alpha > 0)
            if cfg.alpha > 0 {
                let ids = map.activeBlocks(c)
                var variance = 0.0
                for a in ids { for b in ids { variance += q[a + b * map.blockCount] } }
                bonus = cfg.alpha * Swift.max(variance, 0).squareRoot()
            } else {
                bonus = 0
            }
        }
        return BanditExplanation(arm: map.armName(g), scale: posterior.link == .logistic ? "logit" : "reward",
                                 linearPredictor: eta, contributions: top, explorationBonus: bonus)
    }
}

/// The lower Cholesky factor of a symmetric positive semi-definite `n × n` matrix (column-major),
/// with columns whose pivot is below `1e-12` of the largest diagonal set to zero (so a block whose
/// score has no variance is drawn at its mean). Plain Swift, so results do not depend on the BLAS build.
func semidefiniteCholesky(_ a: [Double], n: Int) -> [Double] {
    var l = [Double](repeating: 0, count: n * n)
    var maxDiag = 0.0
    for i in 0..<n { maxDiag = Swift.max(maxDiag, a[i + i * n]) }
    let floor = 1e-12 * maxDiag
    for j in 0..<n {
        var d = a[j + j * n]
        for k in 0..<j { d -= l[j + k * n] * l[j + k * n] }
        if d <= floor || maxDiag == 0 { continue }
        let ljj = d.squareRoot()
        l[j + j * n] = ljj
        for i in (j + 1)..<Swift.max(n, j + 1) {
            var s = a[i + j * n]
            for k in 0..<j { s -= l[i + k * n] * l[j + k * n] }
            l[i + j * n] = s / ljj
        }
    }
    return l
}

extension Xoshiro256 {
    /// The seed `Xoshiro256(seed:keys:)` derives for a sub-stream (recorded with each decision).
    public static func derivedSeed(_ seed: UInt64, keys: [UInt64]) -> UInt64 {
        var h = seed
        for k in keys { h = (h ^ k) &* 0x1000_0000_01B3 ^ (h >> 29) &+ 0x9E37_79B9_7F4A_7C15 }
        return h
    }
}
